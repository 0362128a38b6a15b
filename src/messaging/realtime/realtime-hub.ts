import { Inject, Injectable, Logger } from '@nestjs/common';
import { PUBSUB, PubSubPort, Unsubscribe } from '../../infra/pubsub/pubsub.port';
import { PersonEvent, userChannel } from '../person-events';

type Listener = (e: PersonEvent) => void;

interface UserEntry {
  listeners: Set<Listener>;
  // Resolves once the PUBSUB subscription is live: a consumer reads Postgres only after this.
  ready: Promise<Unsubscribe>;
}

// One PUBSUB subscription per person with a socket or a long-poll in this process, shared by all of them.
@Injectable()
export class RealtimeHub {
  private readonly logger = new Logger('RealtimeHub');
  private readonly users = new Map<string, UserEntry>();

  constructor(@Inject(PUBSUB) private readonly pubsub: PubSubPort) {}

  async publish(userId: string, events: PersonEvent[]): Promise<void> {
    for (const e of events) {
      await this.pubsub.publish(userChannel(userId), e).catch((err: Error) => {
        // The event is in Postgres: a consumer finds it on its next gap or reconnect.
        this.logger.warn(`publish to ${userId} failed: ${err.message}`);
      });
    }
  }

  // Resolves when the listener will hear everything published from now on.
  async listen(userId: string, listener: Listener): Promise<() => void> {
    let entry = this.users.get(userId);
    if (!entry) {
      const listeners = new Set<Listener>();
      const ready = this.pubsub.subscribe(userChannel(userId), (raw) => {
        const e = raw as PersonEvent;
        if (!e || typeof e !== 'object' || typeof e.type !== 'string') return;
        for (const l of [...listeners]) l(e);
      });
      entry = { listeners, ready };
      this.users.set(userId, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    try {
      await current.ready;
    } catch (err) {
      current.listeners.delete(listener);
      if (this.users.get(userId) === current) this.users.delete(userId);
      throw err;
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.listeners.delete(listener);
      if (current.listeners.size === 0 && this.users.get(userId) === current) {
        this.users.delete(userId);
        void current.ready.then((unsub) => unsub()).catch(() => undefined);
      }
    };
  }

  get listenerCount(): number {
    let n = 0;
    for (const e of this.users.values()) n += e.listeners.size;
    return n;
  }
}
