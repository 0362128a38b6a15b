// Live hints for the Page Inbox: the console's WebSocket (/ws, the person's own socket) asks to watch the Page's
// inbox and hears {"type":"inbox",page_id,thread_ids} whenever its threads change; the view re-reads them through
// the inbox routes. A hint can be lost (a reconnect, the bus restarting), so each (re)connect asks for a full
// re-read, and the view keeps a slow poll as a safety net. No DOM here beyond the socket: inbox-feed.spec.ts.

export interface SocketLike {
  readyState: number;
  onmessage: ((m: { data: unknown }) => void) | null;
  onclose: ((e: { code: number }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface FeedTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface InboxFeedOptions {
  token: string;
  pageId: string;
  // These threads changed; null: any may have (re-read the list and the open conversation).
  onHint(threadIds: string[] | null): void;
  // Whether hints are coming (the view polls slowly while they are, every few seconds while not).
  onLive(live: boolean): void;
  connect?: (url: string) => SocketLike;
  url?: string;
  timers?: FeedTimers;
}

const OPEN = 1;
const WATCH_REF = 'inbox-watch';
// Refusals that reconnecting won't change: the person is not (or no longer) an admin, or the Page is gone.
const FINAL = new Set(['PAGE.NOT_ADMIN', 'PAGE.NOT_FOUND']);
const MAX_BACKOFF_MS = 30_000;

export class InboxFeed {
  private ws: SocketLike | null = null;
  private stopped = false;
  // stop() was called: the view is gone, so it is told nothing more.
  private disposed = false;
  private failures = 0;
  private retry: unknown = null;
  private pinger: unknown = null;
  private live = false;
  private readonly timers: FeedTimers;

  constructor(private readonly opts: InboxFeedOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as number),
      setInterval: (fn, ms) => setInterval(fn, ms),
      clearInterval: (h) => clearInterval(h as number),
    };
  }

  start(): void {
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.disposed = true;
    if (this.retry !== null) this.timers.clearTimeout(this.retry);
    this.ws?.close(1000);
  }

  private setLive(live: boolean): void {
    if (live === this.live || this.disposed) return;
    this.live = live;
    this.opts.onLive(live);
  }

  private open(): void {
    if (this.stopped) return;
    const url = this.opts.url ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    const ws = (this.opts.connect ?? ((u) => new WebSocket(u) as unknown as SocketLike))(
      `${url}?${new URLSearchParams({ access_token: this.opts.token })}`,
    );
    this.ws = ws;
    ws.onmessage = (m) => {
      let f: any;
      try {
        f = JSON.parse(String(m.data));
      } catch {
        return;
      }
      if (f.type === 'hello') {
        ws.send(JSON.stringify({ type: 'watch_inbox', ref: WATCH_REF, page_id: this.opts.pageId }));
        // Browsers can't see protocol pings: application pings keep idle proxies from cutting the socket.
        this.pinger = this.timers.setInterval(
          () => ws.readyState === OPEN && ws.send('{"type":"ping"}'),
          Math.max(5000, (f.heartbeat_ms ?? 30000) / 2),
        );
      } else if (f.type === 'watching' && f.ref === WATCH_REF && !this.disposed) {
        this.failures = 0;
        this.setLive(true);
        // Whatever changed before the watch held was not hinted.
        this.opts.onHint(null);
      } else if (f.type === 'inbox' && f.page_id === this.opts.pageId && !this.disposed) {
        this.opts.onHint(Array.isArray(f.thread_ids) ? f.thread_ids : null);
      } else if ((f.type === 'error' && f.ref === WATCH_REF) || (f.type === 'unwatched' && f.ref === null && f.page_id === this.opts.pageId)) {
        // Refused for good: stay on polling, whose own refusals the view shows. Anything else: try again later.
        if (FINAL.has(f.code ?? f.reason)) this.stopped = true;
        ws.close(1000);
      }
      // Everything else is the person's own feed (their chats), which the console doesn't show.
    };
    ws.onclose = (e) => {
      if (this.pinger !== null) this.timers.clearInterval(this.pinger);
      this.pinger = null;
      if (this.ws === ws) this.ws = null;
      this.setLive(false);
      // 4401: the token ended; the console's next request says so.
      if (this.stopped || e.code === 4401) return;
      const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.failures++);
      this.retry = this.timers.setTimeout(() => {
        this.retry = null;
        this.open();
      }, delay);
    };
  }
}
