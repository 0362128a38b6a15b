import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';

export const PUBSUB = Symbol('PUBSUB');

export type Unsubscribe = () => Promise<void>;

// Fan-out between api processes: a reply sent through one reaches sockets held by another.
export interface PubSubPort {
  readonly kind: 'redis' | 'memory';
  // False while the subscriber connection is down: a new subscription would wait for it to come back.
  readonly connected: boolean;
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe>;
  // Called once the bus is back after its connection dropped, with every channel subscribed again: what was
  // published meanwhile is lost to this process, so whoever follows a channel re-reads the truth (Postgres).
  onResubscribed(listener: () => void): void;
  close(): Promise<void>;
}

export class MemoryPubSub implements PubSubPort {
  readonly kind = 'memory' as const;
  readonly connected = true;
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, message: unknown): Promise<void> {
    // A copy, as Redis would deliver: no subscriber can mutate the publisher's object.
    this.emitter.emit(channel, structuredClone(message));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe> {
    this.emitter.on(channel, handler);
    return async () => {
      this.emitter.off(channel, handler);
    };
  }

  // In-process: the bus never drops.
  onResubscribed(): void {}

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

export class RedisPubSub implements PubSubPort {
  readonly kind = 'redis' as const;
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private ready?: Promise<void>;
  private readonly resubscribed = new Set<() => void>();
  // The subscriber connection dropped after it was first ready, and has not been ready since. (Before the first
  // ready, at boot, a subscription just waits its turn.)
  private lost = false;

  constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly logger: { warn(message: string): void },
  ) {
    // This runs inside ioredis's socket handler, where a throw is uncaught and ends the process: a message anyone
    // with access to Redis published, or a handler's bug, is dropped with a warning, and the other handlers still run.
    sub.on('message', (channel: string, raw: string) => {
      const set = this.handlers.get(channel);
      if (!set) return;
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        return this.logger.warn(`a message on ${channel} that is not JSON was dropped`);
      }
      for (const h of set) {
        try {
          h(message);
        } catch (err) {
          this.logger.warn(`a handler of ${channel} failed: ${(err as Error)?.message ?? String(err)}`);
        }
      }
    });
    let connectedBefore = false;
    sub.on('close', () => {
      if (connectedBefore) this.lost = true;
    });
    sub.on('ready', () => {
      this.lost = false;
      if (!connectedBefore) {
        connectedBefore = true;
        return;
      }
      // ioredis has sent its SUBSCRIBEs again as it became ready: a PING queued after them is answered only
      // once they hold, so nothing published after the listeners re-read can be missed.
      this.sub.ping().then(
        () => {
          for (const l of this.resubscribed) l();
        },
        () => undefined,
      );
    });
  }

  onResubscribed(listener: () => void): void {
    this.resubscribed.add(listener);
  }

  get connected(): boolean {
    return !this.lost;
  }

  async publish(channel: string, message: unknown): Promise<void> {
    await this.pub.publish(`${this.prefix}:${channel}`, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: (message: unknown) => void): Promise<Unsubscribe> {
    const full = `${this.prefix}:${channel}`;
    let set = this.handlers.get(full);
    if (!set) {
      set = new Set();
      this.handlers.set(full, set);
      const pending = this.whenReady().then(() => this.sub.subscribe(full));
      this.subscribing.set(full, pending);
      // A failed SUBSCRIBE leaves nothing behind, so the next subscriber tries again.
      pending.catch(() => {
        if (this.subscribing.get(full) !== pending) return;
        this.subscribing.delete(full);
        this.handlers.delete(full);
      });
    }
    set.add(handler);
    // A second subscriber to the channel waits for the same SUBSCRIBE as the first.
    await this.subscribing.get(full);
    return async () => {
      const s = this.handlers.get(full);
      if (!s) return;
      s.delete(handler);
      if (s.size === 0) {
        this.handlers.delete(full);
        this.subscribing.delete(full);
        // Not during a reconnect's handshake either: ioredis would resubscribe the channel once ready.
        if (!(await this.whenReady().then(() => true, () => false))) return;
        // Subscribed again while waiting: keep it.
        if (this.handlers.has(full)) return;
        await this.sub.unsubscribe(full);
      }
    };
  }

  async close(): Promise<void> {
    this.handlers.clear();
    this.subscribing.clear();
    this.sub.disconnect();
  }

  // ioredis 5.8.2+ writes a SUBSCRIBE issued during its handshake at once, before its ready
  // check's INFO, which then fails in subscriber mode and rejects the SUBSCRIBE (ioredis
  // #2037, fixed in 6.0). Once ready, SUBSCRIBE is safe; after a reconnect ioredis resubscribes.
  // One wait shared by every caller, so an outage does not pile up listeners.
  private whenReady(): Promise<void> {
    if (this.sub.status === 'ready') return Promise.resolve();
    if (this.sub.status === 'end') return Promise.reject(new Error('the Redis subscriber connection is closed'));
    this.ready ??= new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        this.sub.off('ready', onReady);
        this.sub.off('end', onEnd);
        this.ready = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => settle();
      const onEnd = () => settle(new Error('the Redis subscriber connection closed before it was ready'));
      this.sub.on('ready', onReady);
      this.sub.on('end', onEnd);
    });
    return this.ready;
  }
}
