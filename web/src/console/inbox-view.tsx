// The Page Inbox on a Page's console view: its conversations, and the open one with a reply box and the handover
// actions (take over from the bot, hand back). The server pushes hints over the console's WebSocket (InboxFeed)
// and the view re-reads what they name; without them (no socket) it polls every few seconds, with them every half
// minute as a safety net, in both cases only while the section is on screen and the tab visible. Rules: inbox.ts.
import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, List, Me, MessageList, MessageView, newClientId, PageAdmin, SentMessage } from '../api';
import { Media } from '../chat/render';
import {
  composerState,
  Conversation as Conv,
  controlLabel,
  earlierQuery,
  emptyConversation,
  errorCode,
  InboxControl,
  InboxNote,
  InboxPage,
  InboxPersona,
  InboxThread,
  ListFilter,
  listQuery,
  LIVE_POLL_MS,
  MIN_HINT_GAP_MS,
  openingAfterSeq,
  outsideWindow,
  POLL_MS,
  previewText,
  replyLine,
  readTarget,
  replyError,
  sentByLabel,
  sentView,
  shortTime,
  Poller,
  startPolling,
  templateSummary,
  feedbackStatus,
  TypingState,
  typingSignal,
  unreadShown,
  WINDOW,
  withControl,
  withEarlierMessages,
  withFiled,
  withFirstPage,
  withNewMessages,
  withOlderPage,
  withSent,
} from './inbox';
import { InboxFeed } from './inbox-feed';
import { ErrorText, routeMissing } from './util';

const LIST_SIZE = 25;
// A thread far behind catches up a few pages per tick at most.
const MAX_PAGES_PER_TICK = 5;
// How many of the latest shown messages each poll reads again (in-place changes: reactions, edits, coupon reveals).
const REFRESH_SHOWN = 20;

// Polls while the tab is visible and `section` is at least partly on screen; stops on unmount. Slowly while
// `live` (hints are pushed); the answer's now() runs at once on a hint.
function usePolling(task: () => Promise<unknown>, section: RefObject<HTMLElement | null>, live: RefObject<boolean>, deps: unknown[]) {
  const latest = useRef(task);
  latest.current = task;
  const handle = useRef<Poller | null>(null);
  useEffect(() => {
    let inView = true;
    const poller = startPolling(
      () => latest.current(),
      () => (live.current ? LIVE_POLL_MS : POLL_MS),
      () => !document.hidden && inView,
      undefined,
      MIN_HINT_GAP_MS,
    );
    handle.current = poller;
    const onVisibility = () => poller.wake();
    document.addEventListener('visibilitychange', onVisibility);
    const observer =
      typeof IntersectionObserver === 'function' && section.current
        ? new IntersectionObserver((entries) => {
            inView = entries.some((e) => e.isIntersecting);
            poller.wake();
          })
        : null;
    if (observer && section.current) observer.observe(section.current);
    return () => {
      poller.stop();
      handle.current = null;
      document.removeEventListener('visibilitychange', onVisibility);
      observer?.disconnect();
    };
  }, deps);
  return handle;
}

// A hint as the open conversation hears it: `n` counts hints, so the same threads twice is still news.
interface Hint {
  n: number;
  threadIds: string[] | null;
}

// appNames: the Page's connected apps by id, to say which of them sent each of the Page's messages.
export function Inbox({ token, pageId, appNames }: { token: string; pageId: string; appNames: ReadonlyMap<string, string> }) {
  const section = useRef<HTMLElement>(null);
  const [threads, setThreads] = useState<InboxThread[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  // Up to which seq this console marked each thread read (the badge hides until the person writes again).
  const [marked, setMarked] = useState<Record<string, number>>({});
  // Once older pages are shown, a refresh of the first page keeps the cursor past them.
  const olderLoaded = useRef(false);
  const url = `/pages/${pageId}/inbox`;
  const [live, setLive] = useState(false);
  const liveRef = useRef(false);
  const [hint, setHint] = useState<Hint>({ n: 0, threadIds: null });
  const [filter, setFilter] = useState<ListFilter>({ folder: 'inbox', assignee: 'all', name: '' });
  const filterRef = useRef(filter);
  filterRef.current = filter;
  // The name search as typed; the list follows it once typing pauses.
  const [nameInput, setNameInput] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setFilter((f) => ((f.name ?? '') === nameInput ? f : { ...f, name: nameInput })), 300);
    return () => clearTimeout(timer);
  }, [nameInput]);
  // Who may be assigned a conversation (the Page's admins), and which of them this console is.
  const [admins, setAdmins] = useState<PageAdmin[]>([]);
  const [me, setMe] = useState<string | null>(null);
  // The Page's personas, and which one this console replies as ('' : the Page itself).
  const [personas, setPersonas] = useState<InboxPersona[]>([]);
  const [replyAs, setReplyAs] = useState('');
  const loadPersonas = () =>
    void api<{ data: InboxPersona[] }>('GET', `${url}/personas`, undefined, { token }).then(
      (r) => {
        setPersonas(r.data);
        setReplyAs((id) => (r.data.some((p) => p.id === id) ? id : ''));
      },
      () => undefined,
    );
  useEffect(() => {
    void api<List<PageAdmin>>('GET', `/pages/${pageId}/admins`, undefined, { token }).then((r) => setAdmins(r.data), () => undefined);
    void api<Me>('GET', '/me', undefined, { token }).then((r) => setMe(r.id), () => undefined);
    loadPersonas();
  }, [pageId, token]);

  async function refresh() {
    const asked = filterRef.current;
    try {
      const page = await api<InboxPage>('GET', url, undefined, { token, query: { limit: LIST_SIZE, ...listQuery(asked) } });
      // The filter changed while this was read: its own read follows.
      if (filterRef.current !== asked) return;
      setThreads((loaded) => withFirstPage(page.data, loaded ?? [], page.paging.next_cursor !== null));
      if (!olderLoaded.current) setNext(page.paging.next_cursor);
      setListError(null);
    } catch (err) {
      setListError(err);
    }
  }
  const listPoller = usePolling(refresh, section, liveRef, [pageId]);
  // Another folder or assignee: a new list from the top.
  const firstFilter = useRef(true);
  useEffect(() => {
    if (firstFilter.current) {
      firstFilter.current = false;
      return;
    }
    setThreads(null);
    setNext(null);
    olderLoaded.current = false;
    listPoller.current?.now();
  }, [filter]);

  async function file(id: string, change: { done?: boolean; assignee_id?: string | null; last_seq?: number }) {
    const filed = await api<InboxThread>('PATCH', `${url}/${id}`, change, { token });
    setThreads((ts) => ts && (me ? withFiled(ts, filed, filterRef.current, me) : ts));
  }

  useEffect(() => {
    const feed = new InboxFeed({
      token,
      pageId,
      onLive: (l) => {
        liveRef.current = l;
        setLive(l);
        // Hints stopped: read now, and poll every few seconds from here (the next tick was half a minute away).
        if (!l) {
          listPoller.current?.now();
          setHint((h) => ({ n: h.n + 1, threadIds: null }));
        }
      },
      onHint: (threadIds) => {
        listPoller.current?.now();
        setHint((h) => ({ n: h.n + 1, threadIds }));
      },
    });
    feed.start();
    return () => feed.stop();
  }, [pageId, token]);

  async function loadMore() {
    if (!next) return;
    setLoadingMore(true);
    const asked = filterRef.current;
    try {
      const page = await api<InboxPage>('GET', url, undefined, { token, query: { limit: LIST_SIZE, cursor: next, ...listQuery(asked) } });
      // The filter changed meanwhile: this page is of the list before.
      if (filterRef.current !== asked) return;
      olderLoaded.current = true;
      setThreads((loaded) => withOlderPage(loaded ?? [], page.data));
      setNext(page.paging.next_cursor);
    } catch (err) {
      setListError(err);
    } finally {
      setLoadingMore(false);
    }
  }

  if (routeMissing(listError))
    return (
      <section class="section gap" aria-label="Inbox">
        The Page Inbox needs the inbox routes (GET /pages/:id/inbox), which this server does not have yet.
      </section>
    );
  const open = threads?.find((t) => t.id === openId) ?? null;
  return (
    <section class={`section inbox${open ? ' has-open' : ''}`} aria-labelledby="inbox-h" ref={section}>
      <h3 id="inbox-h">
        Inbox{' '}
        <span class="muted inbox-live" data-testid="inbox-live">
          {live ? 'Live' : 'Refreshing every few seconds'}
        </span>
      </h3>
      <div class="inbox-filters" role="group" aria-label="Show">
        {(['inbox', 'done'] as const).map((folder) => (
          <button
            key={folder}
            type="button"
            class={filter.folder === folder ? 'primary' : 'secondary'}
            aria-pressed={filter.folder === folder}
            onClick={() => setFilter((f) => ({ ...f, folder }))}
          >
            {folder === 'inbox' ? 'Inbox' : 'Done'}
          </button>
        ))}
        <label>
          Assigned to{' '}
          <select
            value={filter.assignee}
            onChange={(e) => setFilter((f) => ({ ...f, assignee: (e.currentTarget as HTMLSelectElement).value as ListFilter['assignee'] }))}
          >
            <option value="all">Anyone</option>
            <option value="me">Me</option>
            <option value="none">Nobody</option>
          </select>
        </label>
        <input
          type="search"
          class="inbox-search"
          aria-label="Find a conversation by name"
          placeholder="Find by name"
          maxLength={100}
          value={nameInput}
          onInput={(e) => setNameInput((e.currentTarget as HTMLInputElement).value)}
        />
      </div>
      <Personas token={token} url={`${url}/personas`} personas={personas} onChange={loadPersonas} />
      <ErrorText error={listError} />
      <div class="inbox-grid">
        <div class="inbox-list">
          <ul class="inbox-threads" aria-label="Conversations">
            {threads?.map((t) => {
              // The open thread is being read (its pane marks new messages read as they arrive).
              const unread = t.id === openId ? 0 : unreadShown(t, marked[t.id]);
              return (
                <li key={t.id}>
                  <button
                    type="button"
                    class={`inbox-thread${t.id === openId ? ' active' : ''}`}
                    aria-current={t.id === openId ? 'true' : undefined}
                    data-thread={t.id}
                    onClick={() => setOpenId(t.id)}
                  >
                    <span class="inbox-thread-top">
                      <span class="thread-name">{t.person.name}</span>
                      <span class="muted inbox-time">{shortTime(t.last_timestamp)}</span>
                    </span>
                    <span class="inbox-thread-mid">
                      <span class="thread-last">{previewText(t.last_message)}</span>
                      {unread > 0 && (
                        <span class="badge" data-testid="unread" aria-label={`${unread} unread`}>
                          {unread}
                        </span>
                      )}
                    </span>
                    <span class={`inbox-control${t.control.inbox_has_control ? ' yours' : ''}`}>
                      {controlLabel(t.control)}
                      {t.assignee && <span class="inbox-assignee"> · {t.assignee.id === me ? 'Assigned to you' : `Assigned to ${t.assignee.name}`}</span>}
                      {t.blocked && <span class="inbox-blocked-tag" data-testid="blocked"> · Blocked</span>}
                    </span>
                  </button>
                </li>
              );
            })}
          </ul>
          {threads && !threads.length && (
            <p class="muted">
              {filter.folder === 'done'
                ? 'Nothing marked done here.'
                : filter.assignee === 'all' && !filter.name?.trim()
                  ? 'No conversations yet: they appear here when people write to this Page.'
                  : 'No conversations here.'}
            </p>
          )}
          {!threads && !listError && <p class="muted">Loading…</p>}
          {next && (
            <button type="button" class="secondary" onClick={loadMore} disabled={loadingMore}>
              {loadingMore ? 'Loading…' : 'Load more'}
            </button>
          )}
        </div>
        {open ? (
          <Conversation
            key={open.id}
            token={token}
            pageId={pageId}
            thread={open}
            appNames={appNames}
            section={section}
            live={liveRef}
            hint={hint}
            admins={admins}
            me={me}
            personas={personas}
            replyAs={replyAs}
            onReplyAs={setReplyAs}
            onFile={(change) => file(open.id, change)}
            onBack={() => setOpenId(null)}
            onControl={(control) => setThreads((ts) => ts && withControl(ts, open.id, control))}
            onRead={(seq) => setMarked((m) => ({ ...m, [open.id]: Math.max(seq, m[open.id] ?? 0) }))}
            onStale={() => void refresh()}
          />
        ) : (
          <p class="inbox-empty muted">Pick a conversation to read it and reply.</p>
        )}
      </div>
    </section>
  );
}

function Conversation({
  token,
  pageId,
  thread,
  appNames,
  section,
  live,
  hint,
  admins,
  me,
  personas,
  replyAs,
  onReplyAs,
  onFile,
  onBack,
  onControl,
  onRead,
  onStale,
}: {
  token: string;
  pageId: string;
  thread: InboxThread;
  appNames: ReadonlyMap<string, string>;
  section: RefObject<HTMLElement | null>;
  live: RefObject<boolean>;
  hint: Hint;
  admins: PageAdmin[];
  me: string | null;
  personas: InboxPersona[];
  replyAs: string;
  onReplyAs(id: string): void;
  onFile(change: { done?: boolean; assignee_id?: string | null; last_seq?: number }): Promise<void>;
  onBack(): void;
  onControl(c: InboxControl): void;
  onRead(seq: number): void;
  onStale(): void;
}) {
  const base = `/pages/${pageId}/inbox/${thread.id}`;
  const [conv, setConv] = useState<Conv | null>(null);
  // The latest state, read and written by the poll, a send and "Show earlier", which may interleave.
  const convRef = useRef<Conv | null>(null);
  const update = (c: Conv) => {
    convRef.current = c;
    setConv(c);
  };
  // A thread that opened with unread messages is marked read from 0; otherwise from what it opened on.
  const markedUpTo = useRef<number | null>(thread.unread_count > 0 ? 0 : null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState<'send' | 'take' | 'release' | 'earlier' | 'file' | null>(null);
  const [draft, setDraft] = useState('');
  // What the person was last told of this console's typing.
  const typing = useRef<TypingState>({ on: false, sentAt: 0 });
  // Best effort: a lost typing signal is harmless (the indicator times out), so failures are not shown.
  function sayTyping(on: boolean) {
    typing.current = { on, sentAt: Date.now() };
    void api('POST', `${base}/typing`, { on, ...(replyAs ? { persona_id: replyAs } : {}) }, { token }).catch(() => undefined);
  }
  function onDraft(text: string) {
    setDraft(text);
    const signal = typingSignal(typing.current, text, Date.now());
    if (signal) sayTyping(signal === 'on');
  }
  // Leaving the conversation with something half-written: the person stops seeing "typing".
  useEffect(
    () => () => {
      if (typing.current.on) sayTyping(false);
    },
    [thread.id],
  );
  const heading = useRef<HTMLHeadingElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const stick = useRef(true);

  useEffect(() => heading.current?.focus(), []);

  async function markRead(c: Conv) {
    // The person blocked the Page: it can't mark anything seen (the server refuses with THREAD.BLOCKED).
    if (thread.blocked) return;
    if (markedUpTo.current === null) markedUpTo.current = c.fetchedSeq;
    const upTo = readTarget(c.messages, markedUpTo.current);
    if (upTo === null || document.hidden) return;
    markedUpTo.current = upTo;
    onRead(upTo);
    try {
      await api('POST', `${base}/read`, undefined, { token });
    } catch (err) {
      setActionError(err);
    }
  }

  // New messages after what was fetched, a page at a time; the first call opens on the last WINDOW messages. The
  // latest REFRESH_SHOWN of those shown are read again too: a reaction, an edit or a revealed coupon changes a
  // message in place, with no new seq to fetch after.
  async function poll() {
    const shown = convRef.current;
    let c = shown ?? emptyConversation(openingAfterSeq(thread.last_message?.seq ?? 0));
    try {
      for (let i = 0; i < MAX_PAGES_PER_TICK; i++) {
        const afterSeq = i === 0 && shown ? Math.max(0, c.fetchedSeq - REFRESH_SHOWN) : c.fetchedSeq;
        const page = await api<MessageList>('GET', `${base}/messages`, undefined, {
          token,
          query: { after_seq: afterSeq, limit: WINDOW },
        });
        // The reply's own answer may have landed meanwhile: merge into the latest state, not the one read above.
        c = withNewMessages(convRef.current ?? c, page.data);
        update(c);
        if (!page.has_more || !page.data.length) break;
      }
      setLoadError(null);
      await markRead(c);
    } catch (err) {
      setLoadError(err);
    }
  }
  const poller = usePolling(poll, section, live, [thread.id]);
  const [notesReload, setNotesReload] = useState(0);
  useEffect(() => {
    if (hint.n && (hint.threadIds === null || hint.threadIds.includes(thread.id))) {
      poller.current?.now();
      setNotesReload((n) => n + 1);
    }
  }, [hint.n]);

  // Scrolled to the end as messages arrive, unless the reader scrolled up to read.
  useEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [conv?.messages.length]);

  async function earlier() {
    const c = convRef.current;
    const q = c && earlierQuery(c);
    if (!q) return;
    setBusy('earlier');
    try {
      const page = await api<MessageList>('GET', `${base}/messages`, undefined, { token, query: q });
      stick.current = false;
      update(withEarlierMessages(convRef.current ?? c, page.data, q.after_seq));
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(null);
    }
  }

  // What this pane has shown of the conversation (before it loaded: what the list showed).
  const shownSeq = () => convRef.current?.fetchedSeq ?? thread.last_message?.seq ?? 0;
  async function fileAs(change: { done?: boolean; assignee_id?: string | null; last_seq?: number }) {
    setBusy('file');
    setActionError(null);
    try {
      await onFile(change);
    } catch (err) {
      setActionError(err);
      if (errorCode(err) === 'INBOX.THREAD_CHANGED') {
        poller.current?.now();
        onStale();
      }
    } finally {
      setBusy(null);
    }
  }

  async function control(action: 'take' | 'release') {
    setBusy(action);
    setActionError(null);
    try {
      const res = await api<{ control: InboxControl }>('POST', `${base}/${action}`, undefined, { token });
      onControl(res.control);
    } catch (err) {
      setActionError(err);
      onStale();
    } finally {
      setBusy(null);
    }
  }

  async function send(e: Event) {
    e.preventDefault();
    const text = draft;
    const bad = replyError(text);
    if (!convRef.current) return;
    if (bad) {
      setActionError(new Error(bad));
      return;
    }
    setBusy('send');
    setActionError(null);
    const clientId = newClientId();
    try {
      const persona = personas.find((p) => p.id === replyAs);
      const body = { text, client_message_id: clientId, ...(persona ? { persona_id: persona.id } : {}) };
      const sent = await api<SentMessage>('POST', `${base}/messages`, body, { token });
      stick.current = true;
      update(withSent(convRef.current!, sentView(text, sent, clientId, persona)));
      setDraft('');
      // The Page's message ends the person's typing indicator on the server.
      typing.current = { on: false, sentAt: 0 };
    } catch (err) {
      setActionError(err);
      // Control moved (a bot took the thread back): the list says so on its next read.
      if (errorCode(err) === 'INBOX.NOT_IN_CONTROL') onStale();
    } finally {
      setBusy(null);
    }
  }

  const state = composerState(thread.control);
  const closed = conv ? outsideWindow(conv.messages) : false;
  return (
    <div class="inbox-conversation" role="region" aria-labelledby="inbox-conv-h">
      <div class="inbox-conv-bar">
        <button type="button" class="back" aria-label="Back to conversations" onClick={onBack}>
          ‹
        </button>
        <h4 id="inbox-conv-h" tabIndex={-1} ref={heading}>
          {thread.person.name}
        </h4>
        <span class="muted inbox-controlled" data-testid="controlled-by">
          {controlLabel(thread.control)}
        </span>
        {state.canTake && (
          <button type="button" class="primary" onClick={() => control('take')} disabled={!!busy}>
            {busy === 'take' ? 'Taking over…' : 'Take over'}
          </button>
        )}
        {state.canRelease && (
          <button type="button" class="secondary" onClick={() => control('release')} disabled={!!busy}>
            {busy === 'release' ? 'Handing back…' : 'Hand back to bot'}
          </button>
        )}
      </div>
      <div class="inbox-filing">
        <label>
          Assign to{' '}
          <select
            aria-label={`Assign the conversation with ${thread.person.name}`}
            value={thread.assignee?.id ?? ''}
            disabled={!!busy}
            onChange={(e) => void fileAs({ assignee_id: (e.currentTarget as HTMLSelectElement).value || null })}
          >
            <option value="">Nobody</option>
            {admins.map((a) => (
              <option key={a.user_id} value={a.user_id}>
                {a.user_id === me ? `Me (${a.name})` : a.name}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          class="secondary"
          disabled={!!busy}
          // Done as of what this pane shows: a message it hasn't shown yet makes the server refuse (INBOX.THREAD_CHANGED).
          onClick={() => void fileAs(thread.done ? { done: false } : { done: true, last_seq: shownSeq() })}
        >
          {thread.done ? 'Move to inbox' : 'Mark done'}
        </button>
      </div>
      <Notes token={token} url={`${base}/notes`} me={me} reload={notesReload} />
      <ErrorText error={loadError} />
      {conv?.hasEarlier && (
        <button type="button" class="link inbox-earlier" onClick={earlier} disabled={!!busy}>
          {busy === 'earlier' ? 'Loading…' : 'Show earlier messages'}
        </button>
      )}
      <ol
        class="inbox-messages"
        aria-label={`Messages with ${thread.person.name}`}
        ref={list}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget as HTMLElement;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {conv?.messages.map((m) => (
          <InboxMessage
            key={m.seq}
            m={m}
            person={thread.person.name}
            by={sentByLabel(m, appNames)}
            reply={replyLine(m, m.reply_to ? conv.messages.find((x) => x.mid === m.reply_to!.mid) : undefined, thread.person.name)}
          />
        ))}
        {conv && !conv.messages.length && <li class="muted">No messages yet.</li>}
        {!conv && !loadError && <li class="muted">Loading…</li>}
      </ol>
      <ErrorText error={actionError} />
      {thread.blocked ? (
        <p class="inbox-blocked" role="status" data-testid="inbox-blocked">
          {thread.person.name} isn’t receiving messages from this Page right now: they blocked it. You can read the conversation, not reply.
        </p>
      ) : (
        <>
          {state.reason && (
            <p class="inbox-reason" id="inbox-reason">
              {state.reason}
            </p>
          )}
          {state.canSend && closed && (
            <p class="muted" id="inbox-reason">
              {thread.person.name} last wrote more than 7 days ago: a reply may be refused until they write again.
            </p>
          )}
          {personas.length > 0 && state.canSend && (
            <label class="inbox-reply-as">
              Reply as{' '}
              <select value={replyAs} onChange={(e) => onReplyAs((e.currentTarget as HTMLSelectElement).value)}>
                <option value="">The Page</option>
                {personas.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <form class="inbox-composer" onSubmit={send} aria-label="Reply">
            <label class="sr-only" for="inbox-reply">
              Reply to {thread.person.name}
            </label>
            <textarea
              id="inbox-reply"
              name="text"
              rows={2}
              placeholder={state.canSend ? `Reply to ${thread.person.name}…` : 'Take over to reply'}
              value={draft}
              disabled={!state.canSend}
              aria-describedby={state.reason || closed ? 'inbox-reason' : undefined}
              onInput={(e) => onDraft((e.target as HTMLTextAreaElement).value)}
              onKeyDown={(e) => {
                // Enter sends, Shift+Enter is a new line.
                if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                  e.preventDefault();
                  (e.currentTarget as HTMLTextAreaElement).form?.requestSubmit();
                }
              }}
            />
            <button type="submit" class="primary" disabled={!state.canSend || !conv || busy === 'send' || !draft.trim()}>
              {busy === 'send' ? 'Sending…' : 'Send'}
            </button>
          </form>
        </>
      )}
    </div>
  );
}

// One message: the person's on the left, the Page's on the right; templates summarised, media as thumbnails or
// links, the persona a Page message was sent as named above it.
function InboxMessage({ m, person, by, reply }: { m: MessageView; person: string; by: string | null; reply: string | null }) {
  const fromPage = m.sender === 'page';
  const byline = [by, m.persona ? `as ${m.persona.name}` : null].filter(Boolean).join(' · ');
  const template = m.attachment ? templateSummary(m.attachment) : null;
  // Whether the person has revealed a coupon's code (the bots were told, in a messages webhook), or answered a
  // feedback request (messaging_feedback).
  const status = m.coupon ? (m.coupon.revealed ? 'revealed' : 'not revealed yet') : m.feedback ? feedbackStatus(m.feedback, Date.now()) : null;
  const summary = template !== null && status ? `${template} · ${status}` : template;
  // The person's thumbs on a bot's message (response_feedback), as its app heard it.
  const thumbs = m.response_feedback ? (m.response_feedback === 'good' ? '👍 Good response' : '👎 Bad response') : null;
  return (
    <li class={`inbox-msg ${fromPage ? 'from-page' : 'from-person'}`} data-seq={m.seq} data-mid={m.mid}>
      <span class="sr-only">{fromPage ? `Page${byline ? ` (${byline})` : ''}:` : `${person}:`}</span>
      {fromPage && byline && (
        <span class="inbox-persona" aria-hidden="true">
          {byline}
        </span>
      )}
      {reply && <blockquote class="inbox-reply">{reply}</blockquote>}
      {m.kind === 'postback' ? (
        <div class="bubble inbox-note">Tapped “{m.postback?.title}”</div>
      ) : (
        <>
          {summary !== null && <div class="bubble inbox-note">{summary}</div>}
          {m.attachment && m.attachment.type !== 'template' && <Media type={m.attachment.type} payload={m.attachment.payload} />}
          {m.attachments?.length ? (
            <div class="media-group">
              {m.attachments.map((a, i) => (
                <Media key={a.payload.media_id ?? i} type={a.type} payload={a.payload} />
              ))}
            </div>
          ) : null}
          {m.text && <div class="bubble">{m.text}</div>}
          {thumbs && <div class="inbox-thumbs">{thumbs}</div>}
        </>
      )}
      <time class="inbox-when" dateTime={new Date(m.timestamp).toISOString()}>
        {shortTime(m.timestamp)}
      </time>
    </li>
  );
}

// The Page's personas: named agents its people (and its bots) reply as; the person sees the name and picture.
function Personas({ token, url, personas, onChange }: { token: string; url: string; personas: InboxPersona[]; onChange(): void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function add(e: Event) {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    try {
      await api('POST', url, { name: data.get('name'), profile_picture_url: data.get('picture') }, { token });
      form.reset();
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function remove(p: InboxPersona) {
    if (!confirm(`Delete the persona ${p.name}? Messages already sent as it keep its name.`)) return;
    setError(null);
    try {
      await api('DELETE', `${url}/${p.id}`, undefined, { token });
      onChange();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <details class="inbox-personas">
      <summary>Personas ({personas.length})</summary>
      <ul class="plain" aria-label="Personas">
        {personas.map((p) => (
          <li key={p.id}>
            <img class="persona-avatar" src={p.profile_picture_url} alt="" width={24} height={24} /> {p.name}{' '}
            <button type="button" class="danger" aria-label={`Delete ${p.name}`} onClick={() => remove(p)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form onSubmit={add} aria-label="New persona">
        <label>
          Name
          <input name="name" required maxLength={100} autoComplete="off" />
        </label>
        <label>
          Picture URL
          <input name="picture" type="url" required maxLength={2048} autoComplete="off" />
        </label>
        <button type="submit" class="secondary" disabled={busy}>
          {busy ? 'Adding…' : 'Add persona'}
        </button>
      </form>
      <ErrorText error={error} />
    </details>
  );
}

// The notes the Page's people leave on a conversation for each other: the person never sees them, nor a bot.
function Notes({ token, url, me, reload }: { token: string; url: string; me: string | null; reload: number }) {
  const [notes, setNotes] = useState<InboxNote[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  async function load() {
    try {
      setNotes((await api<{ data: InboxNote[] }>('GET', url, undefined, { token })).data);
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => void load(), [url, reload]);
  async function add(e: Event) {
    e.preventDefault();
    if (!draft.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const note = await api<InboxNote>('POST', url, { text: draft }, { token });
      setNotes((ns) => [...(ns ?? []).filter((n) => n.id !== note.id), note]);
      setDraft('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  async function remove(n: InboxNote) {
    setError(null);
    try {
      await api('DELETE', `${url}/${n.id}`, undefined, { token });
      setNotes((ns) => ns && ns.filter((x) => x.id !== n.id));
    } catch (err) {
      setError(err);
    }
  }
  return (
    <details class="inbox-notes">
      <summary>Notes{notes ? ` (${notes.length})` : ''}</summary>
      <ul class="plain" aria-label="Notes">
        {notes?.map((n) => (
          <li key={n.id}>
            <span class="muted">
              {n.author.id === me ? 'You' : n.author.name} · {shortTime(Date.parse(n.created_at))}
            </span>{' '}
            {n.text}{' '}
            {n.author.id === me && (
              <button type="button" class="link" aria-label={`Delete the note ${n.text.slice(0, 40)}`} onClick={() => remove(n)}>
                Delete
              </button>
            )}
          </li>
        ))}
      </ul>
      <form onSubmit={add} aria-label="New note">
        <label class="sr-only" for="inbox-note">
          A note for the Page's people
        </label>
        <textarea
          id="inbox-note"
          rows={2}
          maxLength={2000}
          placeholder="A note for the Page's people (the person never sees it)"
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" class="secondary" disabled={busy || !draft.trim()}>
          {busy ? 'Adding…' : 'Add note'}
        </button>
      </form>
      <ErrorText error={error} />
    </details>
  );
}
