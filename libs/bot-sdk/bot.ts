import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyMessenger } from '../webhook-signature';
import { DedupeStart, DedupeStore, memoryDedupeStore } from './dedupe';
import { eventKind, EventKind } from './events';
import { GraphClient, GraphClientOptions } from './graph-client';
import { keepLease, LeaseKeeper } from './lease';

export interface BotOptions extends GraphClientOptions {
  // Verifies X-Hub-Signature-256 on every webhook POST (and signs appsecret_proof on calls).
  appSecret: string;
  // Answers Graph's subscription handshake (GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…).
  verifyToken?: string;
  // How many recent events to remember, so a redelivered one (at least once, on Messenger as here) runs once; 0: off
  // (whatever dedupeStore says). The in-process store's size; a dedupeStore of your own has its own bounds.
  dedupe?: number;
  // Where the events run are remembered: by default in this process (memoryDedupeStore(dedupe)). Give several
  // replicas, or a bot that restarts, one shared store (redisDedupeStore) so a redelivery to any of them is dropped.
  dedupeStore?: DedupeStore;
  // How long an event is remembered (default 24 h: the age at which Switchboard stops retrying a delivery).
  dedupeTtlMs?: number;
  // A store that hasn't answered a claim by then counts as failed: the event runs, onError is told (default 2 s).
  dedupeTimeoutMs?: number;
  // How many events' handlers run at once, all people together (default 64); the others wait their turn, each
  // person's still in order. 0 or Infinity: no cap.
  maxConcurrentHandlers?: number;
  // Largest webhook body accepted (bytes).
  maxBodyBytes?: number;
  // How many events may wait or run at once (default 10,000): past it a webhook is answered 503 with nothing of it
  // run, so the sender (Switchboard, Messenger) delivers it again later instead of this process holding it in memory.
  maxPendingEvents?: number;
  // A handler threw or overran handlerTimeoutMs, the dedupe store failed (DedupeStoreError), an event's lease was
  // lost before its handlers finished (DedupeLeaseLostError), or a webhook could not be read.
  onError?: (err: unknown, event?: BotEvent) => void;
  // How long a person's next event waits for a handler that has not finished (it goes on running; default 60 s).
  handlerTimeoutMs?: number;
  // When a webhook is answered. 'on-receipt' (the default): 200 at once, handlers after; a process that dies loses
  // the events it had not finished. 'after-handlers': the answer waits for that request's events: 200 when all
  // succeeded (or were already done), otherwise 503 so the sender delivers them again; nothing is lost when the
  // process dies. Needs a two-phase dedupeStore (the default, redisDedupeStore on a client with eval).
  ack?: 'on-receipt' | 'after-handlers';
  // Under ack: 'after-handlers', how long an answer waits for its events (default 3 s): past it, 503 (the handlers
  // go on, and mark the event done if they succeed). Keep it well under the sender's request timeout: Switchboard's
  // WEBHOOK_TIMEOUT_MS (5 s by default), Messenger's 5 s.
  ackTimeoutMs?: number;
  // How long an event is held in progress before a redelivery may run it again (default: handlerTimeoutMs for each
  // of its handlers, plus 5 s): what a crash costs in delay. Renewed while the handlers run (dedupeLeaseRenewMs).
  dedupeLeaseMs?: number;
  // How often the lease is renewed while the event's handlers run, on a store with extend (the default store,
  // redisDedupeStore on a client with eval): default a third of the lease; 0: never (a handler that outruns its
  // lease may then run twice).
  dedupeLeaseRenewMs?: number;
  // How long renewals hold an event whose handlers haven't settled (default 15 min): past it they are presumed
  // stuck, renewals stop (reported to onError) and the lease lapses, so a redelivery may run the event again.
  dedupeLeaseMaxMs?: number;
}

/** The dedupe store failed (threw, rejected or didn't answer in time): the event ran anyway. `cause`: its error. */
export class DedupeStoreError extends Error {
  constructor(
    message: string,
    readonly key: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'DedupeStoreError';
  }
}

/**
 * An event's lease was lost while its handlers ran, or was no longer renewed: a renewal or the final mark found
 * another delivery holding the key or the lease lapsed, so a redelivery may have run (or may run) the event beside
 * this one. A DedupeStoreError, so handlers of that still see it.
 */
export class DedupeLeaseLostError extends DedupeStoreError {
  constructor(message: string, key: string) {
    super(message, key);
    this.name = 'DedupeLeaseLostError';
  }
}

// Turns for the events' handlers, `max` at a time, handed out in the order they were asked for.
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async take(): Promise<() => void> {
    if (this.used < this.max) this.used++;
    else await new Promise<void>((r) => this.waiting.push(r));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      // Handed straight to the next in line, so a newcomer can't slip in between.
      const next = this.waiting.shift();
      if (next) next();
      else this.used--;
    };
  }
}

/** One webhook item, named by kind; `item` is Messenger's item as it came (sender, recipient, timestamp, …). */
export interface BotEvent {
  kind: EventKind;
  pageId: string;
  // The person's page-scoped id (PSID); for an echo (on standby too) the person it was sent to; absent on Page-level events.
  psid?: string;
  timestamp: number;
  item: Record<string, unknown>;
}

export type Handler = (event: BotEvent, bot: MessengerBot) => unknown;

export interface WebhookRequest {
  method: string;
  // Path and query, as node:http's req.url.
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface WebhookAnswer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export type MessagingType = 'RESPONSE' | 'UPDATE' | 'MESSAGE_TAG';

export interface SendOptions {
  messagingType?: MessagingType;
  tag?: string;
  personaId?: string;
  notificationType?: 'REGULAR' | 'SILENT_PUSH' | 'NO_PUSH';
  // Reuse the same key to send once whatever the tries (one is made per call otherwise).
  idempotencyKey?: string;
}

export interface SendResult {
  recipient_id: string;
  message_id?: string;
  // A send whose attachment was given with is_reusable: the id to send it again by.
  attachment_id?: string;
}

/**
 * Whom a send goes to: a PSID, or the `notification_messages_token` a `messaging_optins` webhook gave (marketing
 * messages: outside the 24-hour window, at the token's pace).
 */
export type Recipient = string | { id: string } | { notification_messages_token: string };

const header = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

// Switchboard retries no sooner than its own schedule (5 s after a first failure by default), Messenger as it will.
const BUSY = { 'retry-after': '5' };

// Added to the default lease: time for the store's own calls around the handlers.
const LEASE_MARGIN_MS = 5_000;

// What became of one event of a webhook answered after its handlers: 'ok' (ran, or was already done, or had no
// handler), 'failed' (a handler threw), 'busy' (another delivery holds it in progress), 'skipped' (an earlier event
// of the same person in the same request did not succeed: it waits for the retry, so the order holds).
type Outcome = 'ok' | 'failed' | 'busy' | 'skipped';

// One webhook request under ack: 'after-handlers': the people whose later events of it must wait for its retry.
interface Delivery {
  stopped: Set<string>;
}

/**
 * A Messenger bot for one Page, for Switchboard or the Messenger Platform alike (only `graphUrl` differs):
 * verified webhooks dispatched to handlers by kind, each person's events one at a time and in order, redeliveries
 * dropped; and the Send API and handover calls, retried only where a repeat can't act twice (GraphClient).
 *
 *   const bot = new MessengerBot({ appSecret, pageAccessToken, verifyToken, graphUrl: 'https://switchboard.example' });
 *   bot.on('message', (e, b) => b.sendText(e.psid!, `You said: ${(e.item.message as { text?: string }).text}`));
 *   http.createServer(bot.listener()).listen(3000);
 */
export class MessengerBot {
  readonly graph: GraphClient;
  private readonly handlers = new Map<EventKind | '*', Handler[]>();
  private readonly dedupeStore: DedupeStore | undefined;
  // The store marks events in progress, then done (start, finish); otherwise one claim for the whole TTL.
  private readonly twoPhase: boolean;
  private readonly slots: Slots | undefined;
  // Each person's events run one after another: a slow handler can't let a later message's reply overtake.
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: BotOptions) {
    this.graph = new GraphClient(options);
    const dedupe = options.dedupe ?? 10_000;
    this.dedupeStore = dedupe > 0 ? (options.dedupeStore ?? memoryDedupeStore(dedupe)) : undefined;
    const store = this.dedupeStore;
    this.twoPhase = Boolean(store?.start && store.finish);
    if (store && !store.claim && !(store.start && store.finish)) throw new Error('a dedupeStore needs claim, or start and finish');
    // A one-phase claim holds the key for the whole TTL from before the handlers: a process dying mid-handler would
    // leave it claimed, and the sender's redelivery be dropped.
    if (options.ack === 'after-handlers' && store && !this.twoPhase) {
      throw new Error("ack: 'after-handlers' needs a two-phase dedupeStore (start and finish; redisDedupeStore on a client with eval)");
    }
    // A lease is what a crash costs: Infinity would hold a dead process's event forever (and its renewal timer
    // overflowed to every millisecond), 0 or less has lapsed before the handlers start.
    const lease = options.dedupeLeaseMs;
    if (lease !== undefined && !(Number.isFinite(lease) && lease > 0)) {
      throw new Error(`dedupeLeaseMs must be a positive, finite number of milliseconds (got ${lease})`);
    }
    // A timer's delay: past 2^31-1 ms (Infinity included) Node fires it after 1 ms, so every handler would overrun at
    // once (and the default lease, made from it, would be endless).
    const timeout = options.handlerTimeoutMs;
    if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0 && timeout <= 2 ** 31 - 1)) {
      throw new Error(`handlerTimeoutMs must be a positive number of milliseconds up to 2^31-1 (got ${timeout})`);
    }
    const cap = options.maxConcurrentHandlers ?? 64;
    this.slots = cap > 0 && Number.isFinite(cap) ? new Slots(cap) : undefined;
  }

  /** Handle events of a kind ('*': every kind). Handlers of one event run in the order they were added. */
  on(kind: EventKind | '*', handler: Handler): this {
    this.handlers.set(kind, [...(this.handlers.get(kind) ?? []), handler]);
    return this;
  }

  /**
   * What to answer a webhook request, whatever the framework: the handshake, 401 for a body not signed with the
   * app secret, otherwise 200 at once, the events dispatched after (`idle()` waits for them); under
   * `ack: 'after-handlers'`, 200 once its events' handlers succeeded, 503 if one failed or overran `ackTimeoutMs`.
   */
  async handle(req: WebhookRequest): Promise<WebhookAnswer> {
    const received = Date.now();
    const url = new URL(req.url, 'http://bot');
    if (req.method === 'GET') {
      const q = url.searchParams;
      const ok = q.get('hub.mode') === 'subscribe' && this.options.verifyToken !== undefined && q.get('hub.verify_token') === this.options.verifyToken;
      return ok ? { status: 200, body: q.get('hub.challenge') ?? '' } : { status: 403, body: 'verification failed' };
    }
    if (req.method !== 'POST') return { status: 405, body: 'method not allowed' };
    // The signature covers the raw bytes: checked before anything is parsed.
    if (!verifyMessenger(req.body, header(req.headers['x-hub-signature-256']) ?? '', this.options.appSecret)) {
      return { status: 401, body: 'bad signature' };
    }
    let payload: { object?: unknown; entry?: unknown };
    try {
      payload = JSON.parse(req.body.toString('utf8'));
    } catch (err) {
      this.report(err);
      return { status: 400, body: 'not JSON' };
    }
    if (payload.object !== 'page' || !Array.isArray(payload.entry)) return { status: 200, body: 'EVENT_RECEIVED' };
    // Overloaded: all of this delivery is refused, so its retry carries it whole (at least once, in order).
    if (this.running.size >= (this.options.maxPendingEvents ?? 10_000)) {
      return { status: 503, body: 'busy: deliver again later', headers: BUSY };
    }
    const delivery: Delivery | undefined = this.options.ack === 'after-handlers' ? { stopped: new Set() } : undefined;
    const outcomes: Promise<Outcome>[] = [];
    for (const entry of payload.entry as { id?: unknown; messaging?: unknown; standby?: unknown }[]) {
      const pageId = String(entry?.id ?? '');
      for (const [list, standby] of [[entry?.messaging, false], [entry?.standby, true]] as const) {
        if (!Array.isArray(list)) continue;
        for (const item of list as Record<string, unknown>[]) {
          const outcome = this.dispatch(pageId, item, standby, delivery);
          if (outcome) outcomes.push(outcome);
        }
      }
    }
    return delivery ? this.acknowledge(outcomes, received) : { status: 200, body: 'EVENT_RECEIVED' };
  }

  // The answer to a request under ack: 'after-handlers', once all its events have an outcome or the deadline
  // passed. One answer for the whole batch: a retry carries every event again, and those already done are dropped.
  private async acknowledge(outcomes: Promise<Outcome>[], received: number): Promise<WebhookAnswer> {
    const got: (Outcome | undefined)[] = outcomes.map(() => undefined);
    const all = Promise.all(outcomes.map((o, i) => o.then((x) => (got[i] = x))));
    let timer: NodeJS.Timeout | undefined;
    const limit = this.options.ackTimeoutMs ?? 3_000;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, received + limit - Date.now()))))]);
    clearTimeout(timer);
    if (got.every((o) => o === 'ok')) return { status: 200, body: 'EVENT_RECEIVED' };
    const count = (o: Outcome | undefined) => got.filter((x) => x === o).length;
    const parts = [
      [count('failed'), 'failed'],
      [count(undefined), `not finished in ${limit} ms`],
      [count('busy'), 'in progress in another delivery'],
      [count('skipped'), 'held behind an earlier event of the same person'],
    ].filter(([n]) => n);
    return { status: 503, body: `not handled, deliver again: ${parts.map(([n, what]) => `${n} ${what}`).join(', ')}`, headers: BUSY };
  }

  /** A node:http request listener for the webhook (Express and others: pass it the raw body through handle()). */
  listener(): (req: IncomingMessage, res: ServerResponse) => void {
    const max = this.options.maxBodyBytes ?? 1_000_000;
    return (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) tooLarge = true;
        else chunks.push(c);
      });
      req.on('end', () => {
        const answer: Promise<WebhookAnswer> = tooLarge
          ? Promise.resolve({ status: 413, body: 'too large' })
          : this.handle({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
        answer.then(
          (a) => res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers }).end(a.body),
          (err) => {
            this.report(err);
            res.writeHead(500).end();
          },
        );
      });
    };
  }

  /** Resolves once every event dispatched so far has been handled. */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running]);
  }

  // --- the Send API and friends ---

  send(request: Record<string, unknown>, idempotencyKey?: string): Promise<SendResult> {
    return this.graph.post<SendResult>('me/messages', request, { idempotencyKey, idempotent: true });
  }

  sendMessage(to: Recipient, message: Record<string, unknown>, opts: SendOptions = {}): Promise<SendResult> {
    const recipient = typeof to === 'string' ? { id: to } : to;
    // A marketing message needs no messaging_type (Meta's example sends none); a PSID's defaults to RESPONSE.
    const byToken = 'notification_messages_token' in recipient;
    const messagingType = opts.messagingType ?? (opts.tag ? 'MESSAGE_TAG' : byToken ? undefined : 'RESPONSE');
    return this.send(
      {
        recipient,
        ...(messagingType ? { messaging_type: messagingType } : {}),
        message,
        ...(opts.tag ? { tag: opts.tag } : {}),
        ...(opts.personaId ? { persona_id: opts.personaId } : {}),
        ...(opts.notificationType ? { notification_type: opts.notificationType } : {}),
      },
      opts.idempotencyKey,
    );
  }

  sendText(to: Recipient, text: string, opts: SendOptions = {}): Promise<SendResult> {
    return this.sendMessage(to, { text }, opts);
  }

  senderAction(psid: string, action: 'typing_on' | 'typing_off' | 'mark_seen', opts: { personaId?: string } = {}): Promise<SendResult> {
    return this.send({ recipient: { id: psid }, sender_action: action, ...(opts.personaId ? { persona_id: opts.personaId } : {}) });
  }

  react(psid: string, mid: string, reaction: string | null): Promise<SendResult> {
    return this.send({
      recipient: { id: psid },
      sender_action: reaction === null ? 'unreact' : 'react',
      payload: reaction === null ? { message_id: mid } : { message_id: mid, reaction },
    });
  }

  /** Handover protocol: give the thread to another app (or, from a secondary, back to the primary). */
  passThreadControl(psid: string, targetAppId?: string, metadata?: string): Promise<{ success: boolean }> {
    return this.graph.post('me/pass_thread_control', { recipient: { id: psid }, ...(targetAppId ? { target_app_id: targetAppId } : {}), ...(metadata ? { metadata } : {}) });
  }

  takeThreadControl(psid: string, metadata?: string): Promise<{ success: boolean }> {
    return this.graph.post('me/take_thread_control', { recipient: { id: psid }, ...(metadata ? { metadata } : {}) });
  }

  requestThreadControl(psid: string, metadata?: string): Promise<{ success: boolean }> {
    return this.graph.post('me/request_thread_control', { recipient: { id: psid }, ...(metadata ? { metadata } : {}) });
  }

  releaseThreadControl(psid: string, metadata?: string): Promise<{ success: boolean }> {
    return this.graph.post('me/release_thread_control', { recipient: { id: psid }, ...(metadata ? { metadata } : {}) });
  }

  /** The User Profile API: the person's name and picture, as far as the Page may see them. */
  profile(psid: string, fields = 'first_name,last_name,profile_pic'): Promise<Record<string, unknown>> {
    return this.graph.get(encodeURIComponent(psid), { fields });
  }

  // --- dispatch ---

  // Queues an event on its person's lane. Resolves, for an event with handlers, with what became of it once its
  // key is settled in the store. `delivery`: the request it came in, when that is answered after its handlers.
  private dispatch(pageId: string, item: Record<string, unknown>, standby: boolean, delivery?: Delivery): Promise<Outcome> | undefined {
    const kind = eventKind(item, standby);
    if (!kind) return undefined;
    const sender = (item.sender as { id?: unknown } | undefined)?.id;
    const recipient = (item.recipient as { id?: unknown } | undefined)?.id;
    // An echo goes from the Page to the person: the person is its recipient (on standby too: another app's send).
    const isEcho = (item.message as { is_echo?: unknown } | undefined)?.is_echo === true;
    const psid = isEcho ? recipient : kind === 'policy_enforcement' ? undefined : sender;
    const event: BotEvent = {
      kind,
      pageId,
      ...(psid === undefined ? {} : { psid: String(psid) }),
      timestamp: Number(item.timestamp ?? Date.now()),
      item,
    };
    const handlers = [...(this.handlers.get(kind) ?? []), ...(this.handlers.get('*') ?? [])];
    if (!handlers.length) return undefined;
    // A redelivery carries the same item, known by a digest of it (taken now, before a handler could change it); a
    // message by its mid, since its attachment URLs change between tries (Switchboard signs them afresh for each).
    const mid = (item.message as { mid?: unknown } | undefined)?.mid;
    const id = typeof mid === 'string' ? `mid\u0000${mid}` : JSON.stringify(item);
    const key = this.dedupeStore && createHash('sha1').update(`${pageId}\u0000${kind}\u0000${id}`).digest('base64');
    const lane = `${pageId}:${event.psid ?? ''}`;
    let settle!: (o: Outcome) => void;
    const outcome = new Promise<Outcome>((r) => (settle = r));
    const run = (this.lanes.get(lane) ?? Promise.resolve()).then(async () => {
      // The person's turn; then one of the slots all people share. Claimed only now, just before the handlers run:
      // a redelivery queued behind the first delivery finds it done (dropped) or failed and released (runs again).
      const done = await this.slots?.take();
      try {
        // Their earlier event of this request did not succeed: this one waits for the retry, so it can't overtake.
        if (delivery?.stopped.has(lane)) return settle('skipped');
        const token = randomUUID();
        const state = key === undefined ? 'off' : await this.begin(key, event, handlers.length, token);
        if (state === 'done') return settle('ok');
        if (state === 'running') {
          // On receipt the redelivery is dropped (answered already). After handlers the sender is told to come
          // back: the delivery holding the key may yet fail, or have died with it (its lease then lapses).
          delivery?.stopped.add(lane);
          return settle(delivery ? 'busy' : 'ok');
        }
        const lease = state === 'started' && key !== undefined ? this.renew(key, token, event, handlers.length) : undefined;
        const ran = await this.runHandlers(event, handlers);
        if (delivery && (ran.threw || ran.overran.length)) delivery.stopped.add(lane);
        const settled = this.conclude(key, token, state, event, ran, lease).then((failed) => settle(failed ? 'failed' : 'ok'));
        // Awaited, so a redelivery queued behind this one finds the key done or released; not for a handler that
        // overran, which the person's next event no longer waits for.
        if (!ran.overran.length) await settled;
      } finally {
        done?.();
      }
    });
    this.lanes.set(lane, run);
    this.running.add(run);
    void run.finally(() => {
      this.running.delete(run);
      if (this.lanes.get(lane) === run) this.lanes.delete(lane);
    });
    return outcome;
  }

  // Runs an event's handlers in order. One not settled after handlerTimeoutMs is reported and left running, its
  // promise in `overran`: the person's next event goes on, and its slot is freed.
  private async runHandlers(event: BotEvent, handlers: Handler[]): Promise<{ threw: boolean; overran: Promise<unknown>[] }> {
    let threw = false;
    const overran: Promise<unknown>[] = [];
    const limit = this.options.handlerTimeoutMs ?? 60_000;
    for (const h of handlers) {
      let timer: NodeJS.Timeout | undefined;
      let late = false;
      const running = Promise.resolve().then(() => h(event, this));
      try {
        await Promise.race([
          running,
          new Promise((_, reject) => {
            timer = setTimeout(() => {
              late = true;
              reject(new Error(`a ${event.kind} handler ran longer than ${limit} ms`));
            }, limit);
          }),
        ]);
      } catch (err) {
        if (late) overran.push(running);
        else threw = true;
        this.report(err, event);
      } finally {
        clearTimeout(timer);
      }
    }
    return { threw, overran };
  }

  // What the store says of the event's key: 'started' (this delivery's: run it), 'running' or 'done' (a
  // redelivery); 'unknown' when the store failed: run it (at least once allows a duplicate; dropping on a guess
  // could lose the event).
  private async begin(key: string, event: BotEvent, handlerCount: number, token: string): Promise<DedupeStart | 'unknown'> {
    const store = this.dedupeStore!;
    try {
      if (!this.twoPhase) return (await this.bounded(() => store.claim!(key, this.ttlMs))) ? 'started' : 'done';
      const state = await this.bounded(() => store.start!(key, this.leaseMs(handlerCount), token));
      if (state !== 'started' && state !== 'running' && state !== 'done') throw new Error(`start answered ${JSON.stringify(state)}`);
      return state;
    } catch (err) {
      this.report(new DedupeStoreError(`the dedupe store failed to claim a key, so the event ran: ${String(err)}`, key, err), event);
      return 'unknown';
    }
  }

  // Long enough for the handlers this process still waits for, so a redelivery can't run the event meanwhile even if
  // a renewal or two fails (or the event loop is blocked).
  private leaseMs(handlerCount: number): number {
    return this.options.dedupeLeaseMs ?? handlerCount * (this.options.handlerTimeoutMs ?? 60_000) + LEASE_MARGIN_MS;
  }

  // Renews the lease of an event this delivery started, until conclude() stops it: on a store with extend, unless
  // turned off. A lost lease is reported once (the handlers can't be stopped; a redelivery may be running it).
  private renew(key: string, token: string, event: BotEvent, handlerCount: number): LeaseKeeper | undefined {
    const store = this.dedupeStore!;
    const leaseMs = this.leaseMs(handlerCount);
    const everyMs = this.options.dedupeLeaseRenewMs ?? Math.max(1, Math.floor(leaseMs / 3));
    if (!this.twoPhase || !store.extend || !(everyMs > 0)) return undefined;
    const forMs = this.options.dedupeLeaseMaxMs ?? 900_000;
    return keepLease({
      everyMs,
      forMs,
      extend: () => this.bounded(() => store.extend!(key, leaseMs, token)),
      onLost: () =>
        this.report(new DedupeLeaseLostError('the lease on an event was lost while its handlers ran (it lapsed or another delivery took it), so it may run twice', key), event),
      onFailed: (err) => this.report(new DedupeStoreError(`the dedupe store failed to renew a lease: ${String(err)}`, key, err), event),
      onGaveUp: () =>
        this.report(new DedupeLeaseLostError(`an event's handlers ran longer than ${forMs} ms: its lease is no longer renewed, and a redelivery may run it once it lapses`, key), event),
    });
  }

  // Settles the event's key once its handlers have: done if all succeeded, released if one threw (a redelivery
  // runs it again). Handlers that overran are waited for first, however long: one that never settles leaves its
  // lease to lapse. Resolves true if a handler failed; the store's own failures are only reported (a lease that
  // outlives a failed release only delays the redelivery; a missed finish at worst lets one run again).
  private async conclude(
    key: string | undefined,
    token: string,
    state: DedupeStart | 'unknown' | 'off',
    event: BotEvent,
    { threw, overran }: { threw: boolean; overran: Promise<unknown>[] },
    lease?: LeaseKeeper,
  ): Promise<boolean> {
    for (const r of await Promise.allSettled(overran)) {
      if (r.status === 'rejected') {
        threw = true;
        this.report(r.reason, event);
      }
    }
    await lease?.stop();
    if (state !== 'started' || key === undefined) return threw;
    const store = this.dedupeStore!;
    try {
      // Bounded like a claim: a store that hangs (Redis away, commands queued) must not hold the person's events
      // and a slot for good.
      if (threw) {
        if (store.release) await this.bounded(() => store.release!(key, token));
      } else if (this.twoPhase && (await this.bounded(() => store.finish!(key, this.ttlMs, token))) === false && !lease?.lost) {
        const lapsed = 'the lease on an event lapsed before its handlers finished (they ran past dedupeLeaseMs), so it may have run twice';
        this.report(new DedupeLeaseLostError(lapsed, key), event);
      }
    } catch (err) {
      this.report(new DedupeStoreError(`the dedupe store failed to ${threw ? 'release' : 'finish'} a key: ${String(err)}`, key, err), event);
    }
    return threw;
  }

  private get ttlMs(): number {
    return this.options.dedupeTtlMs ?? 86_400_000;
  }

  // A dedupe store call, failed if it hasn't answered within dedupeTimeoutMs.
  private async bounded<T>(call: () => T | Promise<T>): Promise<T> {
    const limit = this.options.dedupeTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        Promise.resolve().then(call),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${limit} ms`)), limit);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  // onError, which may itself throw without stopping a person's events.
  private report(err: unknown, event?: BotEvent): void {
    try {
      this.options.onError?.(err, event);
    } catch {
      // The developer's reporter failed: nothing better to tell.
    }
  }
}
