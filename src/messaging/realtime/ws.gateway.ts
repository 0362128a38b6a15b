import { Inject, Logger, OnModuleDestroy } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import { Gauge } from 'prom-client';
import { ServerOptions, WebSocket } from 'ws';
import { AuthService } from '../../auth/auth.service';
import { sha256Hex } from '../../common/crypto/tokens';
import { normalizeError } from '../../common/errors/all-exceptions.filter';
import { DependencyUnavailableError } from '../../common/errors/dependency-unavailable';
import { isDatabaseUnavailable } from '../../database/pg-errors';
import { assertStorableText, createValidationPipe, RequestValidationError } from '../../common/errors/validation';
import { SendMessageDto } from '../dto/send-message.dto';
import { AppConfig } from '../../config/app-config';
import { PUBSUB, PubSubPort } from '../../infra/pubsub/pubsub.port';
import { MetricsService } from '../../health/metrics.service';
import { PagesService } from '../../pages/pages.service';
import { MessagingService } from '../messaging.service';
import type { PersonEvent } from '../person-events';
import { OrderedEventStream } from './ordered-stream';
import { InboxHint, PageInboxHub } from '../../pages/page-inbox-hub';
import { FRAME_NOT_JSON, FRAME_TOO_DEEP, FRAME_UNKNOWN, MAX_FRAME_DEPTH, refOf } from './person-frames';
import { RealtimeHub } from './realtime-hub';

export const WS_PATH = '/ws';
// Close codes: 1008 policy violation, 1013 try again later (too slow), 1001 going away.
export const WS_CLOSE_TOO_SLOW = 1013;
// The token the socket was opened with was revoked (logout) or expired: log in again, then reconnect.
export const WS_CLOSE_TOKEN_ENDED = 4401;
// Service restart: reconnect (with the last cursor), to this or another api process.
export const WS_CLOSE_RECONNECT = 1012;
// How many Pages' inboxes one socket may watch at once.
export const MAX_INBOX_WATCHES = 20;

interface Connection {
  ws: WebSocket;
  userId: string;
  tokenHash: string;
  alive: boolean;
  expiry?: NodeJS.Timeout;
  stream?: OrderedEventStream;
  stopListening?: () => void;
  typing: Map<string, NodeJS.Timeout>;
  // The Pages whose inbox hints this socket hears (an admin's console). A watch_inbox's entry is its own object, in
  // place while it is set up (counted toward the cap): an unwatch or close meanwhile removes it, and the setup,
  // finding its entry gone or replaced, stops what it made. `stop` is set once the watch holds.
  watches: Map<string, WatchEntry>;
  // Settles once `hello` is sent (or setup failed): frames that arrive first are answered after it, never before.
  hello: Promise<void>;
}

interface WatchEntry {
  stop?: () => void;
}

// Who an accepted upgrade request belongs to, from verifyClient to handleConnection.
interface Opening {
  userId: string;
  tokenHash: string;
  expiresAt: number | null;
  after: number | undefined;
}

type Accept = (ok: boolean, status?: number, body?: string, headers?: Record<string, string>) => void;

// 1013 (try again later) when a dependency is away, so the client reconnects with its cursor after a pause;
// 1011 for anything else.
function closeOnFailure(ws: WebSocket, err: unknown): void {
  if (err instanceof DependencyUnavailableError) ws.close(1013, 'event bus unavailable, try again later');
  else if (isDatabaseUnavailable(err)) ws.close(1013, 'database unavailable, try again later');
  else ws.close(1011, 'internal error');
}

// The person's WebSocket: a Nest gateway on the ws adapter (PersonSocketAdapter, set in src/bootstrap/http-app.ts),
// on Fastify's own HTTP server. A token is checked before the upgrade (refused with an HTTP status and a JSON body);
// backpressure, heartbeats and typing timers are the gateway's. Protocol in src/messaging/README.md.
@WebSocketGateway({ path: WS_PATH })
export class WsGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly logger = new Logger('WsGateway');
  private heartbeat?: NodeJS.Timeout;
  private tokenRecheck?: NodeJS.Timeout;
  private closing = false;
  private recheckingWatches = false;
  private readonly connections = new Map<WebSocket, Connection>();
  // Open sockets per person in this process, against WS_MAX_SOCKETS_PER_PERSON.
  private readonly socketsOf = new Map<string, number>();
  private readonly openings = new WeakMap<IncomingMessage, Opening>();
  private readonly validation = createValidationPipe();

  constructor(
    private readonly auth: AuthService,
    private readonly messaging: MessagingService,
    private readonly hub: RealtimeHub,
    private readonly inboxHub: PageInboxHub,
    private readonly pages: PagesService,
    private readonly config: AppConfig,
    @Inject(PUBSUB) private readonly pubsub: PubSubPort,
    metrics: MetricsService,
  ) {
    const connections = this.connections;
    new Gauge({
      name: 'switchboard_realtime_sockets',
      help: 'Open person WebSockets on this process',
      registers: [metrics.registry],
      collect() {
        this.set(connections.size);
      },
    });
  }

  // Options known only at boot; the adapter merges them into the decorator's.
  serverOptions(): ServerOptions {
    return {
      maxPayload: 64 * 1024,
      // ws applies `threshold` only without context takeover: with it, every frame goes through zlib (measured
      // ~7% of the loop's CPU for frames of a few hundred bytes). Without it, small frames go as they are, large
      // ones compress on their own, and a socket keeps no deflate window between frames.
      perMessageDeflate: {
        threshold: this.config.env.WS_DEFLATE_THRESHOLD_BYTES,
        serverNoContextTakeover: true,
        serverMaxWindowBits: 15,
        concurrencyLimit: 10,
      },
      verifyClient: (info: { req: IncomingMessage }, accept: Accept) => void this.verify(info.req, accept),
    };
  }

  afterInit(): void {
    this.auth.onPersonTokensRevoked((hashes) => {
      const revoked = new Set(hashes);
      for (const c of this.connections.values()) if (revoked.has(c.tokenHash)) c.ws.close(WS_CLOSE_TOKEN_ENDED, 'token revoked');
    });
    // A revocation published while this process was cut off from the bus never arrived: ask Postgres.
    this.pubsub.onResubscribed(() => void this.closeRevokedSockets({ failClosed: true }));
    // Nor does one whose publisher was cut off, and nothing here can tell: so Postgres is also asked now and then.
    // An admin removed from a Page stops hearing its inbox at the same pace.
    this.tokenRecheck = setInterval(() => {
      void this.closeRevokedSockets({ failClosed: false });
      void this.recheckInboxWatches();
    }, this.config.env.WS_TOKEN_RECHECK_MS);
    this.tokenRecheck.unref();
    this.heartbeat = setInterval(() => this.beat(), this.config.env.WS_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  // Before Nest's adapter terminates what is left: clients get a close frame with a reason. Nest closes the
  // server itself only after every shutdown hook (webhook senders finishing, up to seconds): until then new
  // upgrades are refused, so clients reconnect elsewhere rather than to a socket about to be cut.
  onModuleDestroy(): void {
    this.closing = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.tokenRecheck) clearInterval(this.tokenRecheck);
    for (const c of this.connections.values()) c.ws.close(1001, 'server shutting down');
  }

  // Sockets opened while a round runs (their upgrade may have used a cached verdict) are checked in the next one.
  // `failClosed`: when Postgres can't answer, close them all (after a bus outage, when revocations are known to
  // have been missed); otherwise keep them until the next periodic check.
  private async closeRevokedSockets({ failClosed }: { failClosed: boolean }): Promise<void> {
    const checked = new WeakSet<Connection>();
    for (let round = 0; round < 5; round++) {
      const open = [...this.connections.values()].filter((c) => !checked.has(c));
      if (!open.length) return;
      for (const c of open) checked.add(c);
      let live: Set<string>;
      try {
        live = await this.auth.livePersonTokenHashes([...new Set(open.map((c) => c.tokenHash))]);
      } catch (err) {
        if (!failClosed) {
          this.logger.warn(`the periodic check of sockets' tokens failed, tried again in ${this.config.env.WS_TOKEN_RECHECK_MS} ms: ${(err as Error).message}`);
          return;
        }
        // Fail closed: each client reconnects with its cursor, and its upgrade checks the token again.
        this.logger.warn(`checking sockets' tokens after a pub/sub reconnect failed, closing them: ${(err as Error).message}`);
        for (const c of open) c.ws.close(WS_CLOSE_RECONNECT, 'reconnect with after=<last cursor>');
        return;
      }
      for (const c of open) if (!live.has(c.tokenHash)) c.ws.close(WS_CLOSE_TOKEN_ENDED, 'token revoked');
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  // The upgrade request's token (?access_token= or Authorization: Bearer) must be a person's; refused otherwise.
  private async verify(req: IncomingMessage, accept: Accept): Promise<void> {
    const refuse = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      accept(false, status, JSON.stringify({ statusCode: status, code, message }), { 'Content-Type': 'application/json', ...headers });
    if (this.closing) return refuse(503, 'UNAVAILABLE', 'This process is shutting down: connect again');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const header = typeof req.headers.authorization === 'string' ? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization)?.[1] : undefined;
    const token = url.searchParams.get('access_token') ?? header;
    const afterParam = url.searchParams.get('after');
    if (afterParam !== null && !/^\d{1,15}$/.test(afterParam)) {
      return refuse(400, 'REQUEST.INVALID', 'after must be a cursor (a non-negative integer)');
    }
    let caller;
    try {
      caller = token ? await this.auth.verifyGraphCaller(token) : null;
    } catch (err) {
      if (isDatabaseUnavailable(err)) {
        this.logger.warn(`ws auth could not reach the database: ${(err as Error).message}`);
        return refuse(503, 'DATABASE.UNAVAILABLE', 'The database is unavailable now: connect again shortly', { 'Retry-After': '1' });
      }
      this.logger.error(`ws auth failed: ${(err as Error).message}`);
      return refuse(503, 'UNAVAILABLE', 'Try again');
    }
    if (!caller || caller.principal.kind !== 'person') {
      return refuse(401, 'AUTH.UNAUTHENTICATED', 'A person token is required (?access_token= or Authorization)');
    }
    // Each socket holds memory and a share of every publish: a person's devices, not an unbounded number of them.
    const cap = this.config.env.WS_MAX_SOCKETS_PER_PERSON;
    if ((this.socketsOf.get(caller.principal.userId) ?? 0) >= cap) {
      return refuse(429, 'REALTIME.TOO_MANY_SOCKETS', `At most ${cap} open sockets per person: close one first`);
    }
    // The bus (Redis) is away: the socket would hear nothing live until it is back. The client retries (or long-polls).
    if (!this.hub.canListen(caller.principal.userId)) {
      return refuse(503, 'REALTIME.UNAVAILABLE', 'Live events are unavailable now (the event bus is away): connect again shortly', {
        'Retry-After': '1',
      });
    }
    this.openings.set(req, {
      userId: caller.principal.userId,
      tokenHash: sha256Hex(token!),
      expiresAt: caller.expiresAt,
      after: afterParam === null ? undefined : Number(afterParam),
    });
    accept(true);
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const opened = this.openings.get(req);
    this.openings.delete(req);
    // Upgraded while shutdown began.
    if (this.closing) return ws.close(1001, 'server shutting down');
    // Every upgrade passes verify first; a socket without its opening is refused rather than trusted.
    if (!opened) return ws.close(1008, 'not authenticated');
    void this.connected(ws, opened);
  }

  handleDisconnect(ws: WebSocket): void {
    const c = this.connections.get(ws);
    if (c) this.cleanup(c);
  }

  // Clients may send {"type":"ping"} where they cannot see protocol pings (browsers).
  @SubscribeMessage('ping')
  ping(@ConnectedSocket() ws: WebSocket) {
    return this.answer(ws, () => ({ type: 'pong' }));
  }

  // The frame is typed as a plain object on purpose: a DTO type would run the global ValidationPipe, whose
  // refusals Nest's ws adapter never sends back. sendFromSocket validates it with the same pipe and answers.
  @SubscribeMessage('send')
  send(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: Record<string, unknown>) {
    return this.answer(ws, (c) => this.sendFromSocket(c, frame));
  }

  // {"type":"watch_inbox","ref":…,"page_id":…}: a Page's admin hears {"type":"inbox",page_id,thread_ids} whenever
  // its threads change, and re-reads them through the inbox routes. Answered {"type":"watching",ref,page_id}.
  @SubscribeMessage('watch_inbox')
  watchInbox(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: Record<string, unknown>) {
    return this.answer(ws, (c) => this.watchFromSocket(c, frame));
  }

  // {"type":"unwatch_inbox","ref":…,"page_id":…} → {"type":"unwatched",ref,page_id}.
  @SubscribeMessage('unwatch_inbox')
  unwatchInbox(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: Record<string, unknown>) {
    return this.answer(ws, (c) => {
      const pageId = typeof frame.page_id === 'string' ? frame.page_id : '';
      this.unwatch(c, pageId);
      return { type: 'unwatched', ref: refOf(frame.ref), page_id: pageId.slice(0, 20) };
    });
  }

  @SubscribeMessage(FRAME_UNKNOWN)
  unknownFrame(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: { ref: string | number | null }) {
    return this.answer(ws, () => ({
      type: 'error',
      ref: frame.ref,
      code: 'WS.UNKNOWN_FRAME',
      message: 'type must be ping, send, watch_inbox or unwatch_inbox',
    }));
  }

  @SubscribeMessage(FRAME_TOO_DEEP)
  tooDeepFrame(@ConnectedSocket() ws: WebSocket, @MessageBody() frame: { ref: string | number | null }) {
    return this.answer(ws, () => ({ type: 'error', ref: frame.ref, code: 'WS.FRAME_TOO_DEEP', message: `a frame may nest at most ${MAX_FRAME_DEPTH} levels` }));
  }

  // Every answer to a client's frame goes after `hello` (the protocol's first frame). Answers are buffered like
  // events: a client that keeps sending but never reads would make the server hold them without bound, so over
  // WS_MAX_BUFFERED_BYTES it gets no answer and is closed as too slow.
  private async answer<T>(ws: WebSocket, build: (c: Connection) => T | Promise<T>): Promise<T | undefined> {
    const c = this.connections.get(ws);
    if (!c) return undefined;
    await c.hello;
    if (ws.readyState !== WebSocket.OPEN || this.connections.get(ws) !== c) return undefined;
    // The same grace as events get (a catch-up burst may be draining), then the same verdict.
    if (!(await this.drained(c))) {
      if (ws.readyState !== WebSocket.OPEN) return undefined;
      this.logger.warn(`closing a socket of ${c.userId} that does not read its answers: ${ws.bufferedAmount} bytes unsent`);
      ws.close(WS_CLOSE_TOO_SLOW, 'too slow: answers to its frames go unread');
      this.cleanup(c);
      return undefined;
    }
    return build(c);
  }

  // True once the socket has at most WS_MAX_BUFFERED_BYTES unsent, waiting up to WS_SLOW_GRACE_MS for it to drain.
  private async drained(c: Connection): Promise<boolean> {
    const max = this.config.env.WS_MAX_BUFFERED_BYTES;
    const deadline = Date.now() + this.config.env.WS_SLOW_GRACE_MS;
    while (c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount > max && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return c.ws.readyState === WebSocket.OPEN && c.ws.bufferedAmount <= max;
  }

  @SubscribeMessage(FRAME_NOT_JSON)
  notJson(@ConnectedSocket() ws: WebSocket) {
    ws.close(1008, 'frames must be JSON');
  }

  private async connected(ws: WebSocket, opened: Opening): Promise<void> {
    const { userId } = opened;
    let helloSent!: () => void;
    const hello = new Promise<void>((resolve) => (helloSent = resolve));
    // Upgrades checked at the same time all passed the cap: those past it are closed now.
    const open = this.socketsOf.get(userId) ?? 0;
    if (open >= this.config.env.WS_MAX_SOCKETS_PER_PERSON) return ws.close(1008, 'too many open sockets for this person');
    const c: Connection = { ws, userId, tokenHash: opened.tokenHash, alive: true, typing: new Map(), watches: new Map(), hello };
    this.connections.set(ws, c);
    this.socketsOf.set(userId, open + 1);
    // A socket is not a way to outlive the token: it ends when the token does (a timer waits ~24.8 days at most).
    const expiresAt = opened.expiresAt;
    const arm = () => {
      if (expiresAt === null || c.ws.readyState > WebSocket.OPEN) return;
      const left = expiresAt - Date.now();
      if (left <= 0) return ws.close(WS_CLOSE_TOKEN_ENDED, 'token expired');
      c.expiry = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
      c.expiry.unref();
    };
    arm();
    ws.on('pong', () => (c.alive = true));
    ws.on('error', () => ws.terminate());
    try {
      const { start, reset } = await this.messaging.resumePoint(userId, opened.after);
      const stream = new OrderedEventStream(start, {
        fetchAfter: (a, limit) => this.messaging.eventsAfter(userId, a, limit),
        send: (e) => this.deliver(c, e),
        onError: (err) => {
          this.logger.warn(`stream for ${userId} failed: ${(err as Error).message}`);
          closeOnFailure(ws, err);
        },
      });
      c.stream = stream;
      const stop = await this.hub.listen(
        userId,
        (e) => stream.push(e),
        (head) => {
          if (head === undefined || head > stream.cursor) stream.resync();
        },
      );
      if (ws.readyState !== WebSocket.OPEN) return stop();
      c.stopListening = stop;
      this.sendRaw(c, { type: 'hello', cursor: start, heartbeat_ms: this.config.env.WS_HEARTBEAT_MS, ...(reset ? { reset: true } : {}) });
      stream.start(true);
    } catch (err) {
      this.logger.warn(`ws setup for ${userId} failed: ${(err as Error).message}`);
      closeOnFailure(ws, err);
    } finally {
      helloSent();
    }
  }

  // {"type":"send","ref":…,"thread_id":…,"text":…,"quick_reply"?,"client_message_id":…}: the same as
  // POST /threads/{id}/messages; answered {"type":"ack",ref,mid,seq,timestamp} or {"type":"error",ref,code,message}.
  private async sendFromSocket(c: Connection, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { type: _t, ref, thread_id: threadId, ...body } = frame;
    const answerRef = refOf(ref);
    try {
      if (typeof threadId !== 'string') {
        throw new RequestValidationError([{ field: 'thread_id', rule: 'isString', message: 'thread_id must be a string' }]);
      }
      assertStorableText(threadId, 'thread_id');
      // The REST route's own pipe: the same rules and the same refusals.
      const dto = (await this.validation.transform(body, { type: 'body', metatype: SendMessageDto })) as SendMessageDto;
      const sent = await this.messaging.sendPersonMessage(c.userId, threadId, dto);
      return { type: 'ack', ref: answerRef, mid: sent.mid, seq: sent.seq, timestamp: sent.timestamp, created: sent.created };
    } catch (err) {
      const n = normalizeError(err);
      if (n.status >= 500) this.logger.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return { type: 'error', ref: answerRef, code: n.code, message: n.message, ...(n.details ? { details: n.details } : {}) };
    }
  }

  private async watchFromSocket(c: Connection, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ref = refOf(frame.ref);
    const pageId = frame.page_id;
    const refuse = (code: string, message: string) => ({ type: 'error', ref, code, message });
    if (typeof pageId !== 'string' || !/^\d{1,20}$/.test(pageId)) return refuse('REQUEST.INVALID', 'page_id must be a Page id');
    if (c.watches.has(pageId)) return { type: 'watching', ref, page_id: pageId };
    if (c.watches.size >= MAX_INBOX_WATCHES) return refuse('WS.TOO_MANY_WATCHES', `a socket may watch at most ${MAX_INBOX_WATCHES} inboxes`);
    const entry: WatchEntry = {};
    c.watches.set(pageId, entry);
    let stop: (() => void) | undefined;
    try {
      // The inbox routes' own check: an unknown or suspended Page is PAGE.NOT_FOUND, someone else's PAGE.NOT_ADMIN.
      await this.pages.assertAdmin(pageId, c.userId);
      stop = await this.inboxHub.watch(pageId, {
        hint: (hint) => void this.pushHint(c, hint),
        revoked: (userId) => {
          if (userId === c.userId && c.watches.get(pageId) === entry) this.endWatch(c, pageId);
        },
      });
    } catch (err) {
      if (c.watches.get(pageId) === entry) c.watches.delete(pageId);
      const n = normalizeError(err);
      if (n.status >= 500) this.logger.warn(`watch_inbox for ${c.userId} failed: ${n.message}`);
      return refuse(n.code, n.message);
    }
    // Unwatched (perhaps watched again by a later frame), or the socket closed, while this was set up: nothing of
    // this one stays behind.
    if (c.watches.get(pageId) !== entry || this.connections.get(c.ws) !== c) {
      stop();
      return { type: 'unwatched', ref, page_id: pageId };
    }
    entry.stop = stop;
    return { type: 'watching', ref, page_id: pageId };
  }

  private unwatch(c: Connection, pageId: string): void {
    c.watches.get(pageId)?.stop?.();
    c.watches.delete(pageId);
  }

  // The person is no longer the Page's admin (or the Page is gone): the watch ends and the client is told.
  private endWatch(c: Connection, pageId: string): void {
    this.unwatch(c, pageId);
    this.sendRaw(c, { type: 'unwatched', ref: null, page_id: pageId, reason: 'PAGE.NOT_ADMIN' });
  }

  // Hints wait for room like events do; a socket that never drains is closed as too slow.
  private async pushHint(c: Connection, hint: InboxHint): Promise<void> {
    if (c.ws.bufferedAmount > this.config.env.WS_MAX_BUFFERED_BYTES && !(await this.drained(c))) {
      if (c.ws.readyState !== WebSocket.OPEN) return;
      c.ws.close(WS_CLOSE_TOO_SLOW, 'too slow: inbox hints go unread');
      this.cleanup(c);
      return;
    }
    this.sendRaw(c, hint);
  }

  // A removal is announced on the bus (PageInboxHub.revoke); this catches what that missed (the bus away) and
  // Pages suspended since: one query for every watch of this process, one round at a time.
  private async recheckInboxWatches(): Promise<void> {
    if (this.recheckingWatches) return;
    const watched = [...this.connections.values()].flatMap((c) => [...c.watches.keys()].map((pageId) => ({ c, pageId })));
    if (!watched.length) return;
    this.recheckingWatches = true;
    try {
      const live = await this.pages.activeAdminships(watched.map(({ c, pageId }) => ({ pageId, userId: c.userId })));
      for (const { c, pageId } of watched) {
        if (!live.has(`${pageId}:${c.userId}`) && c.watches.get(pageId)?.stop) this.endWatch(c, pageId);
      }
    } catch (err) {
      this.logger.warn(`rechecking inbox watches failed, tried again in ${this.config.env.WS_TOKEN_RECHECK_MS} ms: ${(err as Error).message}`);
    } finally {
      this.recheckingWatches = false;
    }
  }

  private cleanup(c: Connection): void {
    if (this.connections.get(c.ws) !== c) return;
    this.connections.delete(c.ws);
    const open = (this.socketsOf.get(c.userId) ?? 1) - 1;
    if (open > 0) this.socketsOf.set(c.userId, open);
    else this.socketsOf.delete(c.userId);
    if (c.expiry) clearTimeout(c.expiry);
    c.stream?.stop();
    c.stopListening?.();
    for (const w of c.watches.values()) w.stop?.();
    c.watches.clear();
    for (const t of c.typing.values()) clearTimeout(t);
    c.typing.clear();
  }

  // False stops the stream: the socket is gone or too slow. Over the bound, it waits up to WS_SLOW_GRACE_MS for
  // the client to drain (a catch-up burst is fine), then gives up: the socket is closed, not buffered without bound.
  private async deliver(c: Connection, e: PersonEvent): Promise<boolean> {
    const max = this.config.env.WS_MAX_BUFFERED_BYTES;
    if (c.ws.bufferedAmount > max && !(await this.drained(c))) {
      if (c.ws.readyState !== WebSocket.OPEN) return false;
      // The client reconnects with its last cursor and catches up from Postgres.
      this.logger.warn(`closing a slow socket of ${c.userId}: ${c.ws.bufferedAmount} bytes unsent`);
      c.ws.close(WS_CLOSE_TOO_SLOW, `too slow: over ${max} bytes unsent; reconnect with after=<last cursor>`);
      this.cleanup(c);
      return false;
    }
    if (e.type === 'typing') this.trackTyping(c, e, e.on ? e.expires_at : undefined);
    else if (e.type === 'message') this.trackTyping(c, e, undefined);
    return this.sendRaw(c, e);
  }

  private sendRaw(c: Connection, payload: unknown): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    c.ws.send(JSON.stringify(payload));
    return true;
  }

  // A typing_on ends at its expiry unless typing_off or a message from the Page comes first.
  private trackTyping(c: Connection, e: { thread_id: string; page_id: string; seq: number }, expiresAt: number | undefined): void {
    const threadId = e.thread_id;
    const old = c.typing.get(threadId);
    if (old) clearTimeout(old);
    c.typing.delete(threadId);
    if (expiresAt === undefined) return;
    const timer = setTimeout(() => {
      c.typing.delete(threadId);
      this.sendRaw(c, { type: 'typing', on: false, thread_id: threadId, page_id: e.page_id, seq: e.seq, reason: 'timeout' });
    }, Math.max(0, expiresAt - Date.now()));
    timer.unref();
    c.typing.set(threadId, timer);
  }

  private beat(): void {
    for (const c of this.connections.values()) {
      if (!c.alive) {
        c.ws.terminate();
        this.cleanup(c);
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }
}
