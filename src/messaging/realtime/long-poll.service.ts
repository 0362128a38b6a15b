import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { AuthService } from '../../auth/auth.service';
import { unauthorized } from '../../common/errors/app.exception';
import { DependencyUnavailableError } from '../../common/errors/dependency-unavailable';
import { AppConfig } from '../../config/app-config';
import { MetricsService } from '../../health/metrics.service';
import { RealtimeErrors } from '../messaging.errors';
import { MessagingService } from '../messaging.service';
import type { PersonEvent } from '../person-events';
import { RealtimeHub } from './realtime-hub';

export interface PollResult {
  events: PersonEvent[];
  cursor: number;
  // The cursor asked for is older than the log keeps: reload threads and history, then poll after `cursor`.
  reset?: true;
}

const shuttingDown = () => new DependencyUnavailableError('UNAVAILABLE', 'This process is shutting down: poll again');

interface Waiter {
  wake(): void;
  // The person token the poll came with: its revocation ends the wait.
  tokenHash: string;
  revoked: boolean;
}

// GET /events: answers at once when events after the cursor are stored, else waits for the next one.
@Injectable()
export class LongPollService implements OnModuleDestroy {
  private readonly waiting = new Set<Waiter>();
  // Polls that may wait, per person, against LONG_POLLS_MAX_PER_PERSON.
  private readonly waitingOf = new Map<string, number>();
  private closing = false;

  constructor(
    private readonly messaging: MessagingService,
    private readonly hub: RealtimeHub,
    private readonly config: AppConfig,
    auth: AuthService,
    metrics: MetricsService,
  ) {
    // As a socket is closed (WsGateway), a wait does not outlive its token: a logged-out session hears nothing more.
    auth.onPersonTokensRevoked((hashes) => {
      const revoked = new Set(hashes);
      for (const w of this.waiting) {
        if (!revoked.has(w.tokenHash)) continue;
        w.revoked = true;
        w.wake();
      }
    });
    const waiting = this.waiting;
    new Gauge({
      name: 'switchboard_realtime_long_polls',
      help: 'GET /events requests waiting for an event',
      registers: [metrics.registry],
      collect() {
        this.set(waiting.size);
      },
    });
  }

  async poll(
    userId: string,
    tokenHash: string,
    after: number | undefined,
    timeoutMs: number,
    limit: number,
    aborted: Promise<void>,
  ): Promise<PollResult> {
    // Each poll that may wait holds a request and a listener: a person's clients, not an unbounded number of them.
    // Counted from the start (not once it waits), so a burst of polls can't all pass the check together.
    const release = timeoutMs > 0 ? this.takePlace(userId) : undefined;
    try {
      const start = after ?? (await this.messaging.resumePoint(userId, undefined)).start;
      let wake!: () => void;
      const woken = new Promise<void>((r) => (wake = r));
      const waiter: Waiter = { wake, tokenHash, revoked: false };
      const ephemeral: PersonEvent[] = [];
      // Listen before reading, so an event committed in between still wakes us. A poll that won't wait needn't.
      let stop: (() => void) | undefined;
      let busAway: DependencyUnavailableError | undefined;
      if (timeoutMs > 0) {
        try {
          stop = await this.hub.listen(
            userId,
            (e) => {
              if (e.cursor === undefined) ephemeral.push(e);
              else if (e.cursor <= start) return;
              wake();
            },
            // The bus reconnected: what it lost is in Postgres, so the poll reads it now instead of waiting out its timeout.
            (head) => {
              if (head === undefined || head > start) wake();
            },
          );
          this.waiting.add(waiter);
        } catch (err) {
          if (!(err instanceof DependencyUnavailableError)) throw err;
          // The bus is away: what is stored is still answered; a wait for more would hear nothing, so it is refused.
          busAway = err;
        }
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        let events = await this.messaging.eventsAfter(userId, start, limit);
        // The next cursor is there: nothing was pruned in between, no need to ask (the common poll, one query).
        if (after !== undefined && events[0]?.cursor !== after + 1) {
          const resume = await this.messaging.resumePoint(userId, after);
          if (resume.reset) return { events: [], cursor: resume.start, reset: true };
        }
        if (!events.length && timeoutMs > 0 && !ephemeral.length) {
          if (busAway) throw busAway;
          // The HTTP server closes only once every request is answered: a wait begun now would hold the shutdown.
          if (this.closing) throw shuttingDown();
          const timeout = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
          await Promise.race([woken, timeout, aborted]);
          events = await this.messaging.eventsAfter(userId, start, limit);
          if (waiter.revoked) throw unauthorized('The token was revoked');
        }
        const last = events.length ? events[events.length - 1].cursor! : start;
        return { events: [...events, ...ephemeral], cursor: last };
      } finally {
        if (timer) clearTimeout(timer);
        this.waiting.delete(waiter);
        stop?.();
      }
    } finally {
      release?.();
    }
  }

  private takePlace(userId: string): () => void {
    const cap = this.config.env.LONG_POLLS_MAX_PER_PERSON;
    const held = this.waitingOf.get(userId) ?? 0;
    if (held >= cap) throw RealtimeErrors.tooManyPolls(cap);
    this.waitingOf.set(userId, held + 1);
    return () => {
      const left = this.waitingOf.get(userId)! - 1;
      if (left > 0) this.waitingOf.set(userId, left);
      else this.waitingOf.delete(userId);
    };
  }

  // Shutdown answers every waiting poll with what it has, so the HTTP server can close.
  onModuleDestroy(): void {
    this.closing = true;
    for (const w of this.waiting) w.wake();
  }
}
