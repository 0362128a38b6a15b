import { Inject, Injectable, Logger } from '@nestjs/common';
import { withDeadline } from '../../common/async/deadline';
import { DependencyUnavailableError } from '../../common/errors/dependency-unavailable';
import { AppConfig } from '../../config/app-config';
import { PUBSUB, PubSubPort, Unsubscribe } from '../../infra/pubsub/pubsub.port';

// What a Page's admins watching its inbox are pushed: these threads changed (null: any may have, re-read the
// list). A hint, not the change itself: the console re-reads the inbox routes, which check who may see what.
export interface InboxHint {
  type: 'inbox';
  page_id: string;
  thread_ids: string[] | null;
}

export const pageInboxChannel = (pageId: string) => `page-inbox:${pageId}`;

// At most one hint per Page per window and process, so a busy Page costs the bus ~10 publishes a second whatever
// its message rate, and an idle one nothing. The first change goes out on the next tick.
export const INBOX_HINT_WINDOW_MS = 100;
// More threads than this in one window: the hint says "re-read the list" instead of naming them.
const MAX_THREADS_PER_HINT = 100;

type Listener = (hint: InboxHint) => void;

interface Window {
  threads: Set<string>;
  all: boolean;
}

const busAway = () => new DependencyUnavailableError('REALTIME.UNAVAILABLE', 'Live events are unavailable now (the event bus is away): try again');

// Live hints for the Page Inbox (src/inbox): every change to a Page's threads that its person is told of (the
// RealtimeHub funnel), and each change of control, is announced on the Page's channel; the sockets of its admins
// that asked (`watch_inbox`, WsGateway) hear it. One PUBSUB subscription per watched Page per process.
@Injectable()
export class PageInboxHub {
  private readonly logger = new Logger('PageInboxHub');
  private readonly windows = new Map<string, Window>();
  private readonly pages = new Map<string, { listeners: Set<Listener>; ready: Promise<Unsubscribe> }>();

  constructor(
    @Inject(PUBSUB) private readonly pubsub: PubSubPort,
    private readonly config: AppConfig,
  ) {
    // Hints published while this process was cut off are lost: every watcher re-reads its list.
    pubsub.onResubscribed(() => {
      for (const [pageId, entry] of this.pages) {
        for (const l of [...entry.listeners]) l({ type: 'inbox', page_id: pageId, thread_ids: null });
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

  // Resolves once the listener will hear every hint published from now on; the answer stops listening.
  // Throws DependencyUnavailableError when the bus is away (a new subscription would hear nothing).
  async watch(pageId: string, listener: Listener): Promise<() => void> {
    let entry = this.pages.get(pageId);
    if (!entry) {
      if (!this.pubsub.connected) throw busAway();
      const listeners = new Set<Listener>();
      const ready = this.pubsub.subscribe(pageInboxChannel(pageId), (raw) => {
        const hint = raw as InboxHint;
        if (!hint || hint.type !== 'inbox' || hint.page_id !== pageId) return;
        for (const l of [...listeners]) l(hint);
      });
      entry = { listeners, ready };
      this.pages.set(pageId, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    const stop = () => {
      if (!current.listeners.delete(listener) || current.listeners.size > 0) return;
      if (this.pages.get(pageId) === current) this.pages.delete(pageId);
      void current.ready.then((unsub) => unsub()).catch(() => undefined);
    };
    try {
      await withDeadline(current.ready, this.config.env.REDIS_COMMAND_TIMEOUT_MS, busAway);
    } catch (err) {
      // A failed or late SUBSCRIBE: this listener gives up; the entry goes once nobody waits on it.
      if (!(err instanceof DependencyUnavailableError) && this.pages.get(pageId) === current) this.pages.delete(pageId);
      stop();
      throw err;
    }
    return stop;
  }

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
