import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyMessenger } from '../webhook-signature';
import { DedupeStore, memoryDedupeStore } from './dedupe';
import { eventKind, EventKind } from './events';
import { GraphClient, GraphClientOptions } from './graph-client';

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
  // A handler threw or overran handlerTimeoutMs, the dedupe store failed (DedupeStoreError), or a webhook could not
  // be read.
  onError?: (err: unknown, event?: BotEvent) => void;
  // How long a person's next event waits for a handler that has not finished (it goes on running; default 60 s).
  handlerTimeoutMs?: number;
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
  // The person's page-scoped id (PSID); for an echo the person it was sent to; absent on Page-level events.
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
}

const header = (h: string | string[] | undefined) => (Array.isArray(h) ? h[0] : h);

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
  private readonly slots: Slots | undefined;
  // Each person's events run one after another: a slow handler can't let a later message's reply overtake.
  private readonly lanes = new Map<string, Promise<void>>();
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: BotOptions) {
    this.graph = new GraphClient(options);
    const dedupe = options.dedupe ?? 10_000;
    this.dedupeStore = dedupe > 0 ? (options.dedupeStore ?? memoryDedupeStore(dedupe)) : undefined;
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
   * app secret, otherwise 200 at once, the events dispatched after (`idle()` waits for them).
   */
  async handle(req: WebhookRequest): Promise<WebhookAnswer> {
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
      return { status: 503, body: 'busy: deliver again later', headers: { 'retry-after': '5' } };
    }
    for (const entry of payload.entry as { id?: unknown; messaging?: unknown; standby?: unknown }[]) {
      const pageId = String(entry?.id ?? '');
      for (const [list, standby] of [[entry?.messaging, false], [entry?.standby, true]] as const) {
        if (!Array.isArray(list)) continue;
        for (const item of list as Record<string, unknown>[]) this.dispatch(pageId, item, standby);
      }
    }
    return { status: 200, body: 'EVENT_RECEIVED' };
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

  sendMessage(psid: string, message: Record<string, unknown>, opts: SendOptions = {}): Promise<SendResult> {
    return this.send(
      {
        recipient: { id: psid },
        messaging_type: opts.messagingType ?? (opts.tag ? 'MESSAGE_TAG' : 'RESPONSE'),
        message,
        ...(opts.tag ? { tag: opts.tag } : {}),
        ...(opts.personaId ? { persona_id: opts.personaId } : {}),
        ...(opts.notificationType ? { notification_type: opts.notificationType } : {}),
      },
      opts.idempotencyKey,
    );
  }

  sendText(psid: string, text: string, opts: SendOptions = {}): Promise<SendResult> {
    return this.sendMessage(psid, { text }, opts);
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

  private dispatch(pageId: string, item: Record<string, unknown>, standby: boolean): void {
    const kind = eventKind(item, standby);
    if (!kind) return;
    const sender = (item.sender as { id?: unknown } | undefined)?.id;
    const recipient = (item.recipient as { id?: unknown } | undefined)?.id;
    // An echo goes from the Page to the person: the person is its recipient.
    const psid = kind === 'echo' ? recipient : kind === 'policy_enforcement' ? undefined : sender;
    const event: BotEvent = {
      kind,
      pageId,
      ...(psid === undefined ? {} : { psid: String(psid) }),
      timestamp: Number(item.timestamp ?? Date.now()),
      item,
    };
    const handlers = [...(this.handlers.get(kind) ?? []), ...(this.handlers.get('*') ?? [])];
    if (!handlers.length) return;
    // A redelivery carries the same item: known by a digest of it (taken now, before a handler could change it).
    const key = this.dedupeStore && createHash('sha1').update(`${pageId}\u0000${kind}\u0000${JSON.stringify(item)}`).digest('base64');
    const lane = `${pageId}:${event.psid ?? ''}`;
    const run = (this.lanes.get(lane) ?? Promise.resolve()).then(async () => {
      // The person's turn; then one of the slots all people share. Claimed only now, just before the handlers run:
      // a redelivery queued behind the first delivery finds it done (dropped) or failed and released (runs again).
      const done = await this.slots?.take();
      try {
        const claimed = key === undefined ? 'off' : await this.claim(key, event);
        if (claimed === 'seen') return;
        let threw = false;
        for (const h of handlers) {
          let timer: NodeJS.Timeout | undefined;
          let overran = false;
          const limit = this.options.handlerTimeoutMs ?? 60_000;
          try {
            // A handler that never settles would hold this person's events forever: after the limit the next goes
            // on, and its slot is freed (the SDK no longer waits for it, though it may still be running).
            await Promise.race([
              Promise.resolve().then(() => h(event, this)),
              new Promise((_, reject) => {
                timer = setTimeout(() => {
                  overran = true;
                  reject(new Error(`a ${kind} handler ran longer than ${limit} ms`));
                }, limit);
              }),
            ]);
          } catch (err) {
            // One that overran may yet finish its work: only one that threw lets a redelivery run the event again.
            if (!overran) threw = true;
            this.report(err, event);
          } finally {
            clearTimeout(timer);
          }
        }
        if (threw && claimed === 'claimed' && this.dedupeStore?.release) {
          const store = this.dedupeStore;
          try {
            // Bounded like a claim: a store that hangs (Redis away, commands queued) must not hold the person's
            // events and a slot for good. Awaited, so a redelivery queued behind this one finds the key gone.
            await this.bounded(() => store.release!(key!));
          } catch (err) {
            this.report(new DedupeStoreError(`the dedupe store failed to release a key: ${String(err)}`, key!, err), event);
          }
        }
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
  }

  // 'claimed': first time, run it; 'seen': a redelivery, drop it; 'unknown': the store failed, run it (at least once
  // allows a duplicate; dropping on a guess could lose the event).
  private async claim(key: string, event: BotEvent): Promise<'claimed' | 'seen' | 'unknown'> {
    try {
      const fresh = await this.bounded(() => this.dedupeStore!.claim(key, this.options.dedupeTtlMs ?? 86_400_000));
      return fresh ? 'claimed' : 'seen';
    } catch (err) {
      this.report(new DedupeStoreError(`the dedupe store failed to claim a key, so the event ran: ${String(err)}`, key, err), event);
      return 'unknown';
    }
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
