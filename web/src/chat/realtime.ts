// The person's event feed: the WebSocket /ws, falling back to long-poll GET /events when sockets fail.
// Keeps the highest cursor processed; reconnects with after=<cursor>; drops anything at or below it, so a
// reconnect neither loses nor repeats an event. Typing (no cursor) passes through.
import { api, EventsPage, PersonEvent } from '../api';
import { acceptCursor } from './thread-logic';

export type Transport = 'connecting' | 'websocket' | 'long-poll' | 'offline';

export interface FeedOptions {
  token: string;
  onEvent: (e: PersonEvent) => void;
  onStatus: (t: Transport) => void;
  // The server closed the socket because the token was revoked or expired (4401): log in again, don't reconnect.
  onTokenEnded?: () => void;
  // The server's event log no longer reaches our cursor (pruned past retention): reload threads and history.
  onReset?: () => void;
  // Forces long-poll (?transport=poll), e.g. behind a proxy that breaks WebSockets.
  forcePoll?: boolean;
}

const SOCKET_FAILURES_BEFORE_POLL = 2;
// While long-polling, try the socket again this often (a proxy may have been fixed, a network changed).
const SOCKET_PROBE_MS = 60_000;

export class Feed {
  cursor: number | null = null;
  private ws: WebSocket | null = null;
  private stopped = false;
  private socketFailures = 0;
  private poll: AbortController | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private polling = 0;

  constructor(private readonly opts: FeedOptions) {}

  start(): void {
    if (this.opts.forcePoll) void this.longPoll();
    else this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.ws?.close(1000);
    this.poll?.abort();
  }

  // Exposed for tests and for the "reconnect" control: drops the socket as a network failure would.
  dropSocket(): void {
    this.ws?.close(4000, 'client reconnect');
  }

  private deliver(e: PersonEvent): void {
    const { accept, cursor } = acceptCursor(this.cursor, e);
    if (!accept) return;
    this.cursor = cursor;
    this.opts.onEvent(e);
  }

  private connect(): void {
    if (this.stopped) return;
    this.opts.onStatus('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = new URLSearchParams({ access_token: this.opts.token });
    if (this.cursor !== null) q.set('after', String(this.cursor));
    const ws = new WebSocket(`${proto}//${location.host}/ws?${q}`);
    this.ws = ws;
    let opened = false;
    let pinger: ReturnType<typeof setInterval> | undefined;
    ws.onmessage = (m) => {
      let e: any;
      try {
        e = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (e.type === 'hello') {
        opened = true;
        this.socketFailures = 0;
        if (this.cursor === null || e.reset) this.cursor = e.cursor;
        if (e.reset) this.opts.onReset?.();
        this.opts.onStatus('websocket');
        // Application pings keep idle proxies from cutting the socket.
        pinger = setInterval(
          () => ws.readyState === WebSocket.OPEN && ws.send('{"type":"ping"}'),
          Math.max(5000, (e.heartbeat_ms ?? 30000) / 2),
        );
        return;
      }
      if (e.type === 'pong') return;
      this.deliver(e as PersonEvent);
    };
    ws.onclose = (ev) => {
      clearInterval(pinger);
      if (this.ws === ws) this.ws = null;
      if (this.stopped) return;
      if (ev.code === 4401) {
        this.stopped = true;
        this.opts.onTokenEnded?.();
        return;
      }
      if (!opened) this.socketFailures++;
      if (this.socketFailures >= SOCKET_FAILURES_BEFORE_POLL) {
        void this.longPoll();
        return;
      }
      // 1013 (too slow) and network drops: come back at once with after=<cursor>; otherwise back off a little.
      const delay = ev.code === 1013 || ev.code === 4000 ? 0 : 500 * (this.socketFailures + 1);
      this.opts.onStatus('offline');
      this.retryTimer = setTimeout(() => this.connect(), delay);
    };
  }

  private async longPoll(): Promise<void> {
    this.opts.onStatus('long-poll');
    // A generation number: a probe that gets a socket ends this loop. Both may briefly run; cursors dedupe.
    const run = ++this.polling;
    if (!this.opts.forcePoll)
      this.retryTimer = setTimeout(() => {
        if (this.stopped || run !== this.polling) return;
        this.polling++;
        this.poll?.abort();
        this.socketFailures = 0;
        this.connect();
      }, SOCKET_PROBE_MS);
    let failures = 0;
    while (!this.stopped && run === this.polling) {
      this.poll = new AbortController();
      try {
        const page = await api<EventsPage>('GET', '/events', undefined, {
          token: this.opts.token,
          signal: this.poll.signal,
          query: { after: this.cursor ?? undefined, timeout: this.cursor === null ? 1 : 25 },
        });
        failures = 0;
        if (page.reset) {
          this.cursor = page.cursor;
          this.opts.onReset?.();
          continue;
        }
        for (const e of page.events) this.deliver(e);
        if (this.cursor === null || page.cursor > this.cursor) this.cursor = page.cursor;
        if (run === this.polling) this.opts.onStatus('long-poll');
      } catch {
        if (this.stopped || run !== this.polling) return;
        failures++;
        this.opts.onStatus('offline');
        await new Promise((r) => setTimeout(r, Math.min(10_000, 500 * 2 ** failures)));
      }
    }
  }
}
