// Nest-free: the hints behind PageInboxHub (page-inbox-hub.ts), tested in page-inbox-hints.spec.ts.
import { withDeadline } from '../common/async/deadline';
import { DependencyUnavailableError } from '../common/errors/dependency-unavailable';
import type { PubSubPort, Unsubscribe } from '../infra/pubsub/pubsub.port';

// What a Page's admins watching its inbox are pushed: these threads changed (null: any may have, re-read the
// list). A hint, not the change itself: the console re-reads the inbox routes, which check who may see what.
export interface InboxHint {
  type: 'inbox';
  page_id: string;
  thread_ids: string[] | null;
}

// On the same channel, for the watching processes only: this person is no longer an admin of the Page.
interface WatcherRevoked {
  type: 'inbox-revoked';
  page_id: string;
  user_id: string;
}

export interface InboxWatcher {
  hint(hint: InboxHint): void;
  // The Page's admins lost this person: their watches end now, not at the next periodic recheck.
  revoked(userId: string): void;
}

export const pageInboxChannel = (pageId: string) => `page-inbox:${pageId}`;

// At most one hint per Page per window and process, so a busy Page costs the bus ~10 publishes a second whatever
// its message rate, and an idle one nothing. The first change goes out on the next tick.
export const INBOX_HINT_WINDOW_MS = 100;
// More threads than this in one window: the hint says "re-read the list" instead of naming them.
const MAX_THREADS_PER_HINT = 100;

interface Window {
  threads: Set<string>;
  all: boolean;
}

const busAway = () => new DependencyUnavailableError('REALTIME.UNAVAILABLE', 'Live events are unavailable now (the event bus is away): try again');

// Live hints for the Page Inbox (src/inbox): every change to a Page's threads that its person is told of
// (messaging's RealtimeHub funnel), each change of control or filing, is announced on the Page's channel; the
// sockets of its admins that asked (`watch_inbox`, messaging's WsGateway) hear it. One PUBSUB subscription per
// watched Page per process. In pages, so that pages itself can say when an admin leaves.
export class PageInboxHints {
  private readonly windows = new Map<string, Window>();
  private readonly pages = new Map<string, { watchers: Set<InboxWatcher>; ready: Promise<Unsubscribe> }>();

  constructor(
    private readonly pubsub: PubSubPort,
    private readonly commandTimeoutMs: number,
    private readonly logger: { warn(message: string): void },
  ) {
    // Hints published while this process was cut off are lost: every watcher re-reads its list.
    pubsub.onResubscribed(() => {
      for (const [pageId, entry] of this.pages) {
        for (const w of [...entry.watchers]) w.hint({ type: 'inbox', page_id: pageId, thread_ids: null });
      }
    });
  }

  // A thread of the Page changed (null: say "re-read the list"). Never throws, never waits: it runs after commit on
  // the message path, and a lost hint costs a watcher only until its next re-read.
  touch(pageId: string, threadId: string | null): void {
    const open = this.windows.get(pageId);
    if (open) return add(open, threadId);
    const w: Window = { threads: new Set(), all: false };
    add(w, threadId);
    this.windows.set(pageId, w);
    setImmediate(() => this.flush(pageId, w));
  }

  // After the admin's removal committed: every process drops that person's watches of the Page.
  async revoke(pageId: string, userId: string): Promise<void> {
    const notice: WatcherRevoked = { type: 'inbox-revoked', page_id: pageId, user_id: userId };
    // Lost (the bus away): the gateway's periodic recheck still ends the watch.
    await this.pubsub.publish(pageInboxChannel(pageId), notice).catch((err: Error) => this.logger.warn(`inbox revoke for ${pageId} failed: ${err.message}`));
  }

  private flush(pageId: string, w: Window): void {
    if (!w.all && w.threads.size === 0) {
      this.windows.delete(pageId);
      return;
    }
    const hint: InboxHint = { type: 'inbox', page_id: pageId, thread_ids: w.all ? null : [...w.threads] };
    w.threads = new Set();
    w.all = false;
    this.pubsub.publish(pageInboxChannel(pageId), hint).catch((err: Error) => this.logger.warn(`inbox hint for ${pageId} failed: ${err.message}`));
    setTimeout(() => this.flush(pageId, w), INBOX_HINT_WINDOW_MS).unref();
  }

  // Resolves once the watcher will hear everything published from now on; the answer stops watching.
  // Throws DependencyUnavailableError when the bus is away (a new subscription would hear nothing).
  async watch(pageId: string, watcher: InboxWatcher): Promise<() => void> {
    let entry = this.pages.get(pageId);
    if (!entry) {
      if (!this.pubsub.connected) throw busAway();
      const watchers = new Set<InboxWatcher>();
      const ready = this.pubsub.subscribe(pageInboxChannel(pageId), (raw) => {
        const m = raw as InboxHint | WatcherRevoked;
        if (!m || m.page_id !== pageId) return;
        for (const w of [...watchers]) {
          if (m.type === 'inbox') w.hint(m);
          else if (m.type === 'inbox-revoked' && typeof m.user_id === 'string') w.revoked(m.user_id);
        }
      });
      entry = { watchers, ready };
      this.pages.set(pageId, entry);
    }
    const current = entry;
    current.watchers.add(watcher);
    const stop = () => {
      if (!current.watchers.delete(watcher) || current.watchers.size > 0) return;
      if (this.pages.get(pageId) === current) this.pages.delete(pageId);
      void current.ready.then((unsub) => unsub()).catch(() => undefined);
    };
    try {
      await withDeadline(current.ready, this.commandTimeoutMs, busAway);
    } catch (err) {
      // A failed or late SUBSCRIBE: this watcher gives up; the entry goes once nobody waits on it.
      if (!(err instanceof DependencyUnavailableError) && this.pages.get(pageId) === current) this.pages.delete(pageId);
      stop();
      throw err;
    }
    return stop;
  }

  // Pages with a subscription in this process (tests: a socket's watches are released when it goes).
  get watchedPageCount(): number {
    return this.pages.size;
  }
}

function add(w: Window, threadId: string | null): void {
  if (w.all) return;
  if (threadId === null || w.threads.size >= MAX_THREADS_PER_HINT) {
    w.all = true;
    w.threads.clear();
  } else {
    w.threads.add(threadId);
  }
}
