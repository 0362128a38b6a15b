import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { withDeadline } from '../../common/async/deadline';
import { DependencyUnavailableError } from '../../common/errors/dependency-unavailable';
import { AppConfig } from '../../config/app-config';
import { PUBSUB, PubSubPort, Unsubscribe } from '../../infra/pubsub/pubsub.port';
import { PersonEvent, userChannel } from '../person-events';
import { PageInboxHub } from '../../pages/page-inbox-hub';

type Listener = (e: PersonEvent) => void;
// Live events may have been lost: `head` is the person's last stored cursor (undefined: unknown, re-read anyway).
type Resync = (head: number | undefined) => void;

const busAway = () => new DependencyUnavailableError('REALTIME.UNAVAILABLE', 'Live events are unavailable now (the event bus is away): try again');

interface UserEntry {
  // Each listener with what it does when live events may have been lost (re-read Postgres).
  listeners: Map<Listener, Resync>;
  // Resolves once the PUBSUB subscription is live: a consumer reads Postgres only after this.
  ready: Promise<Unsubscribe>;
}

// One PUBSUB subscription per person with a socket or a long-poll in this process, shared by all of them.
@Injectable()
export class RealtimeHub implements OnModuleDestroy {
  private readonly logger = new Logger('RealtimeHub');
  private readonly users = new Map<string, UserEntry>();
  private readonly sweep: NodeJS.Timeout;
  // The last stored cursor of each person followed here, as the last sweep read it.
  private sweptHeads = new Map<string, number>();

  private cursorHeads?: (userIds: string[]) => Promise<Map<string, number>>;

  constructor(
    @Inject(PUBSUB) private readonly pubsub: PubSubPort,
    private readonly config: AppConfig,
    private readonly inboxHub: PageInboxHub,
  ) {
    // Events published while this process was cut off from the bus never arrive: every listener catches up.
    pubsub.onResubscribed(() => void this.resyncAll('reconnected'));
    // An event whose writer died between its commit and its publish was never announced: now and then the heads are
    // compared, and listeners still behind the previous sweep's re-read (so within two intervals).
    this.sweep = setInterval(() => void this.resyncAll('sweep'), config.env.REALTIME_RESYNC_MS);
    this.sweep.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.sweep);
  }

  // Where the people's last stored cursors are read (messaging's user_event_cursors), one query for all.
  useCursorHeads(read: (userIds: string[]) => Promise<Map<string, number>>): void {
    this.cursorHeads = read;
  }

  // One query for every person followed here, so only listeners that are behind re-read (not one query per socket).
  private async resyncAll(why: 'reconnected' | 'sweep'): Promise<void> {
    const userIds = [...this.users.keys()];
    if (!userIds.length) return;
    let heads: Map<string, number> | undefined;
    try {
      heads = await this.cursorHeads?.(userIds);
    } catch (err) {
      // A sweep tries again at its next turn; after a reconnect, something was surely missed.
      if (why === 'sweep') return;
      this.logger.warn(
        `reading cursor heads after a pub/sub reconnect failed, every listener re-reads: ${(err as Error).message}`,
      );
    }
    if (why === 'sweep') {
      if (!heads) return;
      // Under load a listener is often a publish behind (in flight, not lost): a sweep holds listeners to the heads
      // of the previous sweep, which anything published has long reached, so only what was really missed is re-read.
      const previous = this.sweptHeads;
      this.sweptHeads = heads;
      for (const userId of userIds) {
        const head = previous.get(userId);
        if (head === undefined) continue;
        for (const resync of [...(this.users.get(userId)?.listeners.values() ?? [])]) resync(head);
      }
      return;
    }
    this.logger.warn(`pub/sub reconnected: listeners of ${userIds.length} person(s) catch up from Postgres`);
    for (const userId of userIds) {
      const head = heads ? (heads.get(userId) ?? 0) : undefined;
      for (const resync of [...(this.users.get(userId)?.listeners.values() ?? [])]) resync(head);
    }
  }

  // What a person is told of also changes the Page's inbox, but for typing and receipts of delivery (the inbox shows
  // neither): its watching admins are hinted.
  async publish(userId: string, events: PersonEvent[]): Promise<void> {
    for (const e of events) if (e.type !== 'typing' && e.type !== 'delivery') this.inboxHub.touch(e.page_id, e.thread_id);
    for (const e of events) {
      await this.pubsub.publish(userChannel(userId), e).catch((err: Error) => {
        // The event is in Postgres: a consumer finds it on its next gap or reconnect.
        this.logger.warn(`publish to ${userId} failed: ${err.message}`);
      });
    }
  }

  // Whether listen() can serve this person now: their subscription holds here already (a listener that joins it
  // during an outage is caught up when the bus returns), or the bus is up to take a new one.
  canListen(userId: string): boolean {
    return this.users.has(userId) || this.pubsub.connected;
  }

  // Resolves when the listener will hear everything published from now on. `resync` runs when some of it may
  // have been lost (the bus reconnected): a listener behind `head` re-reads Postgres from its cursor.
  // Throws DependencyUnavailableError when a new subscription is needed while the bus is down, or doesn't hold
  // within REDIS_COMMAND_TIMEOUT_MS: a socket or long-poll waiting on it would hear nothing while the outage lasts.
  async listen(userId: string, listener: Listener, resync: Resync): Promise<() => void> {
    let entry = this.users.get(userId);
    if (!entry) {
      // A new subscription while the bus is down would only wait for it.
      if (!this.pubsub.connected) throw busAway();
      const listeners = new Map<Listener, Resync>();
      const ready = this.pubsub.subscribe(userChannel(userId), (raw) => {
        const e = raw as PersonEvent;
        if (!e || typeof e !== 'object' || typeof e.type !== 'string') return;
        for (const l of [...listeners.keys()]) l(e);
      });
      entry = { listeners, ready };
      this.users.set(userId, entry);
    }
    const current = entry;
    current.listeners.set(listener, resync);
    try {
      await withDeadline(current.ready, this.config.env.REDIS_COMMAND_TIMEOUT_MS, busAway);
    } catch (err) {
      current.listeners.delete(listener);
      const timedOut = err instanceof DependencyUnavailableError;
      // A failed SUBSCRIBE fails every listener of the entry; a late one only those that gave up, and once none
      // is left, the subscription is dropped when it does come through.
      if (this.users.get(userId) === current && (!timedOut || current.listeners.size === 0)) {
        this.users.delete(userId);
        if (timedOut) void current.ready.then((unsub) => unsub()).catch(() => undefined);
      }
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
