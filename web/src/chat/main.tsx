import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import '../styles.css';
import {
  AccountLinkingCompleted,
  AccountLinkingStarted,
  AccountLinkState,
  TopicView,
  api,
  ApiError,
  FeedbackAnswer,
  List,
  Me,
  MessageList,
  MessageView,
  newClientId,
  Page,
  Persona,
  PersonEvent,
  PageProfile,
  Button,
  ReactionState,
  ReportInput,
  ReportView,
  SentMessage,
  Thread,
  ThreadPage,
  ThreadSummary,
  tokenStore,
  UploadedAttachment,
} from '../api';
import { Auth } from '../auth';
import { DraftList, useAttachments } from './attachments';
import { composerState, readyAttachments } from './drafts';
import { editable, editedMessage, undoReaction, withCouponRevealed, withEdit, withFeedback, withReaction, withThumbs } from './message-actions';
import { MessageItem, Thumbs } from './message-tools';
import { ReportDialog } from './report-dialog';
import { personaByline, typingByline } from './persona';
import { APP_TITLE, noticeFor, titleWithUnread } from './notify';
import { Feed, Transport } from './realtime';
import { linkingReturn, LinkTarget, linkTarget, withoutRef } from './ref-link';
import {
  dueForRefresh,
  markRefreshed,
  markRefreshing,
  mayRefreshAfterError,
  planFetches,
  RefreshLedger,
  swapMedia,
} from './media-refresh';
import { Media, MessageBody, PaperclipIcon, PersonaByline, QuickReplyChips, TemplateButton } from './render';
import {
  historyStart,
  lastOwnMessage,
  marksFromEvent,
  mergeMessages,
  OwnStatus,
  Pending,
  quickReplyChips,
  raiseMarks,
  replyQuote,
  ReplyQuote,
  retryable,
  sendRequest,
  sentView,
  statusOf,
  summary,
  unreadAfterOwnRead,
  upsertMessage as upsert,
  withFirstPage,
  withOlderPage,
} from './thread-logic';

const tokens = tokenStore('switchboard.person');
// Threads the list loads at once; older ones come a page at a time ("Older conversations").
const THREADS_PAGE = 30;
// A conversation opens with up to this many pages of its newest messages.
const HISTORY_PAGES = 20;
const HISTORY_PAGE_SIZE = 100;

interface ThreadState {
  messages: MessageView[];
  loaded: boolean;
  // The Page's marks (thread-logic raiseMarks): only ever raised, by the thread list and by events.
  seenByPageSeq: number;
  deliveredToPageSeq: number;
  typingUntil: number;
  // The persona typing, when the Page types as one (Send API typing_on with persona_id).
  typingAs?: Persona;
  // Bumped when a message's media failed and was re-fetched: its body is drawn anew, so the browser tries
  // again even if the fresh URLs are the same as the failed ones.
  mediaGen: Record<string, number>;
  // The feed lost events for good (onReset): reactions and edits may have changed messages already drawn, so
  // the next history load's copies replace them (otherwise what is drawn, kept current by events, stays).
  stale: boolean;
  // Whether the person's account is linked with the Page's business (account linking); undefined until read.
  linked?: boolean;
  // Marketing messages: the person's topics by title (an opt-in request shows its own); undefined until read.
  topics?: Record<string, TopicView>;
}
const emptyThread: ThreadState = {
  messages: [],
  loaded: false,
  stale: false,
  seenByPageSeq: 0,
  deliveredToPageSeq: 0,
  typingUntil: 0,
  mediaGen: {},
};

function Chat({ token, onLogout }: { token: string; onLogout: () => void }) {
  const [me, setMe] = useState<Me | null>(null);
  const [threads, setThreads] = useState<ThreadSummary[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const loadedOlder = useRef(false);
  const [state, setState] = useState<Record<string, ThreadState>>({});
  const [pending, setPending] = useState<Pending[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const [transport, setTransport] = useState<Transport>('connecting');
  const [now, setNow] = useState(Date.now());
  const [linkError, setLinkError] = useState<string | null>(null);
  // What the conversation says about its account link: the login page's outcome, or a Log In / Log Out that failed.
  const [linkingNotice, setLinkingNotice] = useState<{ threadId?: string; pageId?: string; text: string } | null>(null);
  const openRef = useRef<string | null>(null);
  openRef.current = openId;
  const feedRef = useRef<Feed | null>(null);
  const refreshLedger = useRef<RefreshLedger>(new Map()).current;
  const threadsRef = useRef<ThreadSummary[]>([]);
  threadsRef.current = threads;
  // A notification's click opens its thread with the component as it is then, not as it was when it was shown.
  const openLatest = useRef<(id: string) => void>(() => undefined);
  const [notifyPermission, setNotifyPermission] = useState(() => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission));

  // The tab's title counts what is unread, so a person in another tab sees it.
  useEffect(() => {
    document.title = titleWithUnread(threads);
  }, [threads]);
  // Logged out: no count left in the title.
  useEffect(() => () => void (document.title = APP_TITLE), []);

  // A system notification for the Page's message when the person is not reading that thread (notification_type
  // decides: with sound, silent, or none).
  function notify(id: string, m: MessageView) {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    const pageName = threadsRef.current.find((t) => t.id === id)?.page.name ?? 'New message';
    const notice = noticeFor(m, { id, pageName }, { visible: document.visibilityState === 'visible', openThreadId: openRef.current });
    if (!notice) return;
    try {
      const n = new Notification(notice.title, { body: notice.body, silent: notice.silent, tag: notice.tag });
      n.onclick = () => {
        window.focus();
        openLatest.current(id);
        n.close();
      };
    } catch {
      // Some browsers allow notifications only from a service worker: the title's count still says it.
    }
  }

  const patch = (id: string, f: (s: ThreadState) => ThreadState) =>
    setState((all) => ({ ...all, [id]: f(all[id] ?? emptyThread) }));

  // The list loads a page of threads; older ones come a page at a time on request. Once some are loaded, a
  // refresh renews the first page only, and the cursor stays where the older pages reached.
  async function refreshThreads() {
    const res = await api<ThreadPage>('GET', '/threads', undefined, { token, query: { limit: THREADS_PAGE } });
    setThreads((loaded) => withFirstPage(res.data, loaded));
    if (!loadedOlder.current) setOlderCursor(res.paging?.next_cursor ?? null);
    for (const t of res.data) patch(t.id, (s) => raiseMarks(s, t.seen_by_page_seq, t.delivered_to_page_seq));
  }

  async function loadOlderThreads() {
    if (!olderCursor) return;
    const res = await api<ThreadPage>('GET', '/threads', undefined, { token, query: { limit: THREADS_PAGE, cursor: olderCursor } });
    loadedOlder.current = true;
    setThreads((loaded) => withOlderPage(loaded, res.data));
    setOlderCursor(res.paging?.next_cursor ?? null);
    for (const t of res.data) patch(t.id, (s) => raiseMarks(s, t.seen_by_page_seq, t.delivered_to_page_seq));
  }

  function onEvent(e: PersonEvent) {
    const id = e.thread_id;
    if (e.type === 'typing') {
      patch(id, (s) => ({ ...s, typingUntil: e.on ? (e.expires_at ?? Date.now() + 20_000) : 0, typingAs: e.on ? e.persona : undefined }));
      return;
    }
    if (e.type === 'message' || e.type === 'echo') {
      const m = e.message;
      patch(id, (s) => ({ ...s, messages: upsert(s.messages, m), typingUntil: m.sender === 'page' ? 0 : s.typingUntil }));
      if (m.client_message_id) setPending((p) => p.filter((x) => x.client_message_id !== m.client_message_id));
      setThreads((ts) => {
        const t = ts.find((x) => x.id === id);
        if (!t) {
          void refreshThreads();
          return ts;
        }
        const unread = m.sender === 'page' && !(openRef.current === id && document.visibilityState === 'visible');
        const next = {
          ...t,
          last_message: m,
          last_seq: Math.max(t.last_seq, m.seq),
          unread_count: t.unread_count + (unread ? 1 : 0),
        };
        return [next, ...ts.filter((x) => x.id !== id)];
      });
      if (m.sender === 'page') {
        notify(id, m);
        // The device has the message: tell the page (Delivered), and, when it is on screen, that it was read.
        void api('POST', `/threads/${id}/delivered`, { mids: [m.mid] }, { token }).catch(() => undefined);
        if (openRef.current === id && document.visibilityState === 'visible') markRead(id, m.timestamp);
      }
      return;
    }
    if (e.type === 'reaction') {
      // by 'page': the Page's bot; by 'person': another device (or this one, confirming what it drew).
      patch(id, (s) => ({ ...s, messages: withReaction(s.messages, e.mid, e.by, e.emoji) }));
      return;
    }
    if (e.type === 'edit') {
      applyEdit(id, e.message);
      return;
    }
    if (e.type === 'account_linking') {
      patch(id, (s) => ({ ...s, linked: e.status === 'linked' }));
      return;
    }
    if (e.type === 'thumbs') {
      patch(id, (s) => ({ ...s, messages: withThumbs(s.messages, e.mid, e.feedback) }));
      return;
    }
    if (e.type === 'block') {
      // Any device's block or unblock (this one's answer drew it already).
      applyBlocked(id, e.blocked, e.blocked_at);
      return;
    }
    if (e.type === 'feedback') {
      patch(id, (s) => ({ ...s, messages: withFeedback(s.messages, e.mid, e.feedback) }));
      return;
    }
    if (e.type === 'optin') {
      // Any device's opt-in, stop or resume (this one's answer drew it already).
      const topic: TopicView = { mid: e.mid, title: e.title, payload: '', status: e.status, opted_in_at: e.opted_in_at, expires_at: e.expires_at };
      patch(id, (s) => ({ ...s, topics: { ...s.topics, [e.title]: { ...s.topics?.[e.title], ...topic } } }));
      return;
    }
    if (e.type === 'coupon_reveal') {
      // Any of the person's devices, this one included (its answer drew it already: then nothing changes).
      patch(id, (s) => ({ ...s, messages: withCouponRevealed(s.messages, e.mid, e.coupon_code, e.revealed_at) }));
      return;
    }
    const marks = marksFromEvent(e);
    if (marks.seen !== undefined || marks.delivered !== undefined) patch(id, (s) => raiseMarks(s, marks.seen, marks.delivered));
    if (e.type === 'read' && e.by === 'person') {
      // Another device (or this one) read: up to its watermark only, so a partial read is counted again by the server.
      const t = threadsRef.current.find((x) => x.id === id);
      if (t && unreadAfterOwnRead(t, e.watermark) === null) void refreshThreads();
      else setThreads((ts) => ts.map((x) => (x.id === id ? { ...x, unread_count: 0 } : x)));
    }
  }

  // An edit (this device's PATCH answer or another device's event): the message and, if it is the latest, the
  // thread list's preview.
  function applyEdit(id: string, edited: MessageView) {
    patch(id, (s) => ({ ...s, messages: withEdit(s.messages, edited) }));
    setThreads((ts) =>
      ts.map((t) => (t.id === id && t.last_message ? { ...t, last_message: editedMessage(t.last_message, edited) } : t)),
    );
  }

  // Drawn at once; the server's event confirms it. Refused, it is undone (unless something newer replaced it).
  async function react(id: string, mid: string, emoji: string | null, previous: string | null) {
    patch(id, (s) => ({ ...s, messages: withReaction(s.messages, mid, 'person', emoji) }));
    const path = `/threads/${id}/messages/${encodeURIComponent(mid)}/reaction`;
    try {
      if (emoji === null) await api<ReactionState>('DELETE', path, undefined, { token });
      else await api<ReactionState>('PUT', path, { reaction: emoji }, { token });
    } catch (err) {
      patch(id, (s) => ({ ...s, messages: undoReaction(s.messages, mid, emoji, previous) }));
      throw err;
    }
  }

  // The code comes from the server: the person's copy of a coupon has none until it is revealed.
  async function revealCoupon(id: string, mid: string) {
    const view = await api<MessageView>('POST', `/threads/${id}/messages/${encodeURIComponent(mid)}/reveal`, undefined, { token });
    const code = view.attachment?.type === 'template' && view.attachment.payload.template_type === 'coupon' ? view.attachment.payload.coupon_code : undefined;
    if (code !== undefined) patch(id, (s) => ({ ...s, messages: withCouponRevealed(s.messages, mid, code, view.coupon?.revealed_at ?? Date.now()) }));
  }

  // Drawn at once; refused, the earlier thumb comes back.
  async function thumbs(id: string, mid: string, feedback: 'good' | 'bad', previous: 'good' | 'bad' | undefined) {
    patch(id, (s) => ({ ...s, messages: withThumbs(s.messages, mid, feedback) }));
    try {
      await api('PUT', `/threads/${id}/messages/${encodeURIComponent(mid)}/response-feedback`, { feedback }, { token });
    } catch (err) {
      patch(id, (s) => ({ ...s, messages: withThumbs(s.messages, mid, previous) }));
      throw err;
    }
  }

  async function submitFeedback(id: string, mid: string, answers: FeedbackAnswer[]) {
    const view = await api<MessageView>('POST', `/threads/${id}/messages/${encodeURIComponent(mid)}/feedback`, { answers }, { token });
    if (view.feedback) patch(id, (s) => ({ ...s, messages: withFeedback(s.messages, mid, view.feedback!) }));
  }

  async function edit(id: string, mid: string, text: string) {
    const view = await api<MessageView>('PATCH', `/threads/${id}/messages/${encodeURIComponent(mid)}`, { text }, { token });
    applyEdit(id, view);
  }

  function markRead(id: string, watermark: number) {
    setThreads((ts) => ts.map((t) => (t.id === id ? { ...t, unread_count: 0 } : t)));
    void api('POST', `/threads/${id}/read`, { watermark }, { token }).catch(() => undefined);
  }

  useEffect(() => {
    api<Me>('GET', '/me', undefined, { token })
      .then(setMe)
      .catch((err) => err instanceof ApiError && err.status === 401 && onLogout());
    const feed = new Feed({
      token,
      onEvent: (e) => onEvent(e),
      onStatus: setTransport,
      onTokenEnded: onLogout,
      onReset: () => {
        // Events were missed for good: what the REST API says is the truth. Open threads reload now, others on open.
        void refreshThreads();
        // The account link may have changed in what was missed too: read again when shown.
        setState((all) => Object.fromEntries(Object.entries(all).map(([k, v]) => [k, { ...v, loaded: false, stale: true, linked: undefined, topics: undefined }])));
        if (openRef.current) void loadLinkState(openRef.current);
        if (openRef.current) void loadTopics(openRef.current);
        if (openRef.current) void loadHistory(openRef.current);
      },
      forcePoll: new URLSearchParams(location.search).get('transport') === 'poll',
    });
    feedRef.current = feed;
    (window as any).__switchboardFeed = feed;
    feed.start();
    void refreshThreads();
    const link = linkTarget(location.search);
    if (link) void openLink(link);
    void completeLinking(link?.pageId);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      feed.stop();
      clearInterval(tick);
    };
  }, [token]);

  // The newest HISTORY_PAGES pages: a long thread opens on its end (and is read up to it), not on its beginning.
  async function loadHistory(id: string) {
    const max = HISTORY_PAGES * HISTORY_PAGE_SIZE;
    let after = historyStart(threadsRef.current.find((t) => t.id === id)?.last_seq ?? 0, max);
    let all: MessageView[] = [];
    for (let i = 0; i <= HISTORY_PAGES; i++) {
      const page = await api<MessageList>('GET', `/threads/${id}/messages`, undefined, {
        token,
        query: { after_seq: after, limit: HISTORY_PAGE_SIZE },
      });
      // The thread is longer than the list said (or not listed yet): start again from its newest.
      if (historyStart(page.last_seq, max) > after) {
        after = historyStart(page.last_seq, max);
        all = [];
        continue;
      }
      all = all.concat(page.data);
      if (!page.has_more || !page.data.length) break;
      after = page.data[page.data.length - 1].seq;
    }
    patch(id, (s) => ({
      ...s,
      messages: s.stale ? mergeMessages(all, s.messages) : mergeMessages(s.messages, all),
      loaded: true,
      stale: false,
    }));
    const lastPage = [...all].reverse().find((m) => m.sender === 'page');
    if (lastPage) markRead(id, lastPage.timestamp);
  }

  openLatest.current = (id) => void open(id);
  async function open(id: string) {
    setOpenId(id);
    if (state[id]?.linked === undefined) void loadLinkState(id);
    if (state[id]?.topics === undefined) void loadTopics(id);
    if (!state[id]?.loaded) await loadHistory(id);
    else {
      const lastPage = [...(state[id]?.messages ?? [])].reverse().find((m) => m.sender === 'page');
      if (lastPage) markRead(id, lastPage.timestamp);
    }
  }

  // Fresh signed URLs for these messages (the list signs at read time), swapped in; media-refresh.ts says
  // when, and that a message is re-fetched at most once per expiry. `broken`: they failed to load.
  async function refreshMedia(id: string, msgs: MessageView[], broken: boolean) {
    const mids = msgs.map((m) => m.mid);
    markRefreshing(refreshLedger, mids);
    const fresh: MessageView[] = [];
    try {
      for (const q of planFetches(msgs.map((m) => m.seq)))
        fresh.push(...(await api<MessageList>('GET', `/threads/${id}/messages`, undefined, { token, query: q })).data);
    } catch {
      // markRefreshed gives the ones not fetched a later try
    }
    const wanted = fresh.filter((m) => mids.includes(m.mid));
    markRefreshed(refreshLedger, mids, wanted, Date.now());
    if (!wanted.length) return;
    patch(id, (s) => {
      const mediaGen = broken ? { ...s.mediaGen } : s.mediaGen;
      if (broken) for (const m of wanted) mediaGen[m.mid] = (mediaGen[m.mid] ?? 0) + 1;
      return { ...s, messages: swapMedia(s.messages, wanted), mediaGen };
    });
  }
  const onMediaError = (id: string, m: MessageView) => {
    if (mayRefreshAfterError(m, refreshLedger, Date.now())) void refreshMedia(id, [m], true);
  };
  const refreshDue = (id: string, msgs: MessageView[], at: number) => {
    const due = dueForRefresh(msgs, refreshLedger, at);
    if (due.length) void refreshMedia(id, due, false);
  };

  async function startThread(page: Page) {
    await openThreadWith(await api<Thread>('POST', '/threads', { page_id: page.id }, { token }));
  }

  async function openThreadWith(t: Thread) {
    patch(t.id, (s) => raiseMarks(s, t.seen_by_page_seq, t.delivered_to_page_seq));
    await refreshThreads();
    await open(t.id);
  }

  // The app opened at ?page=<id>&ref=<ref> (ref-link.ts): the Page's thread, and its bots get the ref. Once the
  // server has answered, the ref leaves the address, so a reload opens the thread without sending it again.
  // Network errors, 5xx and 429 are tried again a few times; if they last, the ref stays for a reload.
  async function openLink(link: LinkTarget) {
    if (link.badRef !== undefined) console.warn(`ref ${JSON.stringify(link.badRef)} is not a valid ref (1–250 of A-Za-z0-9+/=.:_-): opening the Page without it`);
    const body = link.ref === undefined ? { page_id: link.pageId } : { page_id: link.pageId, ref: link.ref };
    for (let attempt = 0; ; attempt++) {
      try {
        const t = await api<Thread>('POST', '/threads', body, { token });
        dropRef();
        setLinkError(null);
        await openThreadWith(t);
        return;
      } catch (err) {
        const status = err instanceof ApiError ? err.status : undefined;
        if (status === 401) return;
        if (!retryable(status) || attempt === 3) {
          if (!retryable(status)) dropRef();
          setLinkError(`This link’s Page could not be opened: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
      }
    }
  }
  function dropRef() {
    const search = withoutRef(location.search);
    if (search !== location.search) history.replaceState(history.state, '', location.pathname + search + location.hash);
  }

  // Back from a business's login page (the server's return put the token in the fragment): completed here, as this
  // person, so a Log In link handed to someone else links nobody. What the notice says comes from the server.
  async function completeLinking(pageId: string | undefined) {
    const ret = linkingReturn(location.hash);
    if (!ret) return;
    history.replaceState(history.state, '', location.pathname + location.search);
    if ('error' in ret) {
      setLinkingNotice({ pageId, text: 'That login link has expired or was used already: tap Log In again.' });
      return;
    }
    try {
      const done = await api<AccountLinkingCompleted>('POST', '/account-linking/complete', ret.code === undefined
        ? { account_linking_token: ret.token }
        : { account_linking_token: ret.token, authorization_code: ret.code }, { token });
      // The header follows the account_linking event the server sends every device of the person.
      setLinkingNotice({ pageId, text: done.status === 'linked' ? 'You are logged in: your account is linked.' : 'Login cancelled.' });
    } catch (err) {
      setLinkingNotice({ pageId, text: `Login not completed: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  async function loadLinkState(id: string) {
    const st = await api<AccountLinkState>('GET', `/threads/${id}/account-linking`, undefined, { token }).catch(() => null);
    if (st) patch(id, (s) => (s.linked === undefined ? { ...s, linked: st.linked } : s));
  }

  async function loadTopics(id: string) {
    const list = await api<{ data: TopicView[] }>('GET', `/threads/${id}/notification-messages`, undefined, { token }).catch(() => null);
    if (list) patch(id, (s) => ({ ...s, topics: { ...Object.fromEntries(list.data.map((t) => [t.title, t])), ...s.topics } }));
  }

  // The opt-in request's button (opt in, or resume a stopped topic) and Stop: the answer is the topic's state.
  async function setOptin(id: string, mid: string, on: boolean) {
    const topic = await api<TopicView>(on ? 'POST' : 'DELETE', `/threads/${id}/messages/${encodeURIComponent(mid)}/optin`, undefined, { token });
    patch(id, (s) => ({ ...s, topics: { ...s.topics, [topic.title]: topic } }));
  }

  // Log In: the server names the login page (with the token and where to come back); the person goes there, as
  // Messenger opens it, and comes back to this conversation.
  async function logIn(id: string, mid: string, url: string) {
    try {
      const started = await api<AccountLinkingStarted>('POST', `/threads/${id}/account-linking`, { mid, url }, { token });
      location.assign(started.authorize_url);
    } catch (err) {
      setLinkingNotice({ threadId: id, text: `Could not start the login: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  function applyBlocked(id: string, blocked: boolean, blockedAt: number | null) {
    setThreads((ts) => ts.map((t) => (t.id === id ? { ...t, blocked, blocked_at: blockedAt } : t)));
  }

  // Block messages from the Page (Messenger's "Block messages") or unblock them: the answer is the thread's state.
  async function setBlocked(id: string, on: boolean) {
    const t = await api<Thread>(on ? 'POST' : 'DELETE', `/threads/${id}/block`, undefined, { token });
    applyBlocked(id, t.blocked, t.blocked_at);
    if (on) patch(id, (s) => ({ ...s, typingUntil: 0 }));
  }

  // Report the conversation (Messenger's "Report"), blocking the Page in the same step when asked: the thread's
  // state is read back then, as the block's own answer would give it (the socket's block event says the same).
  async function report(id: string, input: ReportInput): Promise<ReportView> {
    const r = await api<ReportView>('POST', `/threads/${id}/report`, input, { token });
    if (r.blocked) {
      const t = await api<Thread>('GET', `/threads/${id}`, undefined, { token });
      applyBlocked(id, t.blocked, t.blocked_at);
      patch(id, (s) => ({ ...s, typingUntil: 0 }));
    }
    return r;
  }

  async function logOut(id: string) {
    try {
      await api('DELETE', `/threads/${id}/account-linking`, undefined, { token });
      patch(id, (s) => ({ ...s, linked: false }));
      setLinkingNotice({ threadId: id, text: 'You are logged out: your account is no longer linked.' });
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) patch(id, (s) => ({ ...s, linked: false }));
      setLinkingNotice({ threadId: id, text: err instanceof ApiError && err.status === 409 ? 'Your account is not linked.' : `Could not log out: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  // Sends with a client_message_id; retries reuse it, so the server stores the message once.
  async function send(p: Pending) {
    setPending((all) => [...all.filter((x) => x.client_message_id !== p.client_message_id), { ...p, failed: false }]);
    const { path, body } = sendRequest(p);
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        const sent = await api<SentMessage>('POST', path, body, { token });
        patch(p.thread_id, (s) => ({ ...s, messages: upsert(s.messages, sentView(p, sent)) }));
        setPending((all) => all.filter((x) => x.client_message_id !== p.client_message_id));
        return;
      } catch (err) {
        if (!retryable(err instanceof ApiError ? err.status : undefined)) break;
        await new Promise((r) => setTimeout(r, 400 * 2 ** attempt));
      }
    }
    setPending((all) => all.map((x) => (x.client_message_id === p.client_message_id ? { ...x, failed: true } : x)));
  }

  const sendText = (text: string | undefined, quick_reply?: { payload: string }, attachments?: UploadedAttachment[], reply_to?: { mid: string }) =>
    openId &&
    send({
      client_message_id: newClientId(),
      thread_id: openId,
      text,
      quick_reply,
      ...(attachments?.length ? { attachments } : {}),
      ...(reply_to ? { reply_to } : {}),
      timestamp: Date.now(),
    });
  const sendPostback = (title: string, payload: string) =>
    openId && send({ client_message_id: newClientId(), thread_id: openId, postback: { title, payload }, timestamp: Date.now() });

  const current = threads.find((t) => t.id === openId);
  return (
    <div class={`chat ${openId ? 'has-open' : ''}`}>
      <aside class="sidebar" aria-label="Conversations" data-feed={transport}>
        <header class="bar">
          <h1>Chats</h1>
          <span class="who">{me?.name}</span>
          {notifyPermission === 'default' && (
            <button
              type="button"
              class="link"
              onClick={() => void Notification.requestPermission().then(setNotifyPermission, () => undefined)}
            >
              Turn on notifications
            </button>
          )}
          <button type="button" class="link" onClick={onLogout}>
            Log out
          </button>
        </header>
        <PageSearch token={token} onPick={startThread} />
        <ul class="threads" aria-label="Threads">
          {threads.map((t) => (
            <li key={t.id}>
              <button
                type="button"
                class={`thread ${t.id === openId ? 'active' : ''}`}
                aria-current={t.id === openId ? 'true' : undefined}
                onClick={() => open(t.id)}
              >
                <span class="avatar" aria-hidden="true">
                  {t.page.name.slice(0, 1).toUpperCase()}
                </span>
                <span class="grow">
                  <span class="thread-name">{t.page.name}</span>
                  <span class="thread-last">{summary(t.last_message)}</span>
                </span>
                {t.unread_count > 0 && (
                  <span class="badge" aria-label={`${t.unread_count} unread`}>
                    {t.unread_count}
                  </span>
                )}
              </button>
            </li>
          ))}
          {!threads.length && <li class="muted pad">No conversations yet: find a Page above.</li>}
          {olderCursor && (
            <li class="pad">
              <button type="button" class="link" onClick={() => void loadOlderThreads().catch(() => undefined)}>
                Older conversations
              </button>
            </li>
          )}
        </ul>
      </aside>
      {current ? (
        <Conversation
          key={current.id}
          thread={current}
          st={state[current.id]}
          pending={pending.filter((p) => p.thread_id === current.id)}
          now={now}
          transport={transport}
          onBack={() => setOpenId(null)}
          onText={sendText}
          onPostback={sendPostback}
          onRetry={(p) => send(p)}
          onMediaError={(m) => onMediaError(current.id, m)}
          onMediaDue={(msgs, at) => refreshDue(current.id, msgs, at)}
          onReact={(mid, emoji, previous) => react(current.id, mid, emoji, previous)}
          onEdit={(mid, text) => edit(current.id, mid, text)}
          onLogIn={(mid, url) => void logIn(current.id, mid, url)}
          onLogOut={() => void logOut(current.id)}
          linkingNotice={
            linkingNotice && (linkingNotice.threadId === current.id || linkingNotice.pageId === current.page_id) ? linkingNotice.text : null
          }
          onDismissNotice={() => setLinkingNotice(null)}
          onRevealCoupon={(mid) => revealCoupon(current.id, mid)}
          onSubmitFeedback={(mid, answers) => submitFeedback(current.id, mid, answers)}
          onThumbs={(mid, feedback, previous) => thumbs(current.id, mid, feedback, previous)}
          onOptin={(mid, on) => setOptin(current.id, mid, on)}
          onBlock={(on) => setBlocked(current.id, on)}
          onReport={(input) => report(current.id, input)}
          token={token}
        />
      ) : (
        <main class="empty muted">
          {linkError && (
            <p class="error" role="alert">
              {linkError}
            </p>
          )}
          <p>Pick a conversation or find a Page.</p>
        </main>
      )}
    </div>
  );
}

function PageSearch({ token, onPick }: { token: string; onPick: (p: Page) => void }) {
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Page[] | null>(null);
  useEffect(() => {
    if (!q.trim()) return setResults(null);
    const ctl = new AbortController();
    const t = setTimeout(() => {
      api<List<Page>>('GET', '/pages', undefined, { token, query: { q: q.trim() }, signal: ctl.signal })
        .then((r) => setResults(r.data))
        .catch(() => undefined);
    }, 200);
    return () => {
      clearTimeout(t);
      ctl.abort();
    };
  }, [q]);
  return (
    <div class="search" role="search">
      <label class="sr-only" for="page-search">
        Find a Page
      </label>
      <input
        id="page-search"
        type="search"
        placeholder="Find a Page"
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
      />
      {results && (
        <ul class="results" aria-label="Pages found">
          {results.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                onClick={() => {
                  setQ('');
                  onPick(p);
                }}
              >
                <span class="avatar small" aria-hidden="true">
                  {p.name.slice(0, 1).toUpperCase()}
                </span>
                {p.name} <span class="muted">{p.category}</span>
              </button>
            </li>
          ))}
          {!results.length && <li class="muted pad">No Page matches.</li>}
        </ul>
      )}
    </div>
  );
}

interface ConvProps {
  thread: ThreadSummary;
  st?: ThreadState;
  pending: Pending[];
  now: number;
  transport: Transport;
  onBack(): void;
  onText(text: string | undefined, qr?: { payload: string }, attachments?: UploadedAttachment[], replyTo?: { mid: string }): void;
  onPostback(title: string, payload: string): void;
  onRetry(p: Pending): void;
  onMediaError(m: MessageView): void;
  // Called each tick with the thread's messages: those whose media URLs expire get fresh ones.
  onMediaDue(msgs: MessageView[], now: number): void;
  onReact(mid: string, emoji: string | null, previous: string | null): Promise<void>;
  onEdit(mid: string, text: string): Promise<void>;
  onLogIn(mid: string, url: string): void;
  onLogOut(): void;
  linkingNotice: string | null;
  onDismissNotice(): void;
  onRevealCoupon(mid: string): Promise<void>;
  onSubmitFeedback(mid: string, answers: FeedbackAnswer[]): Promise<void>;
  onThumbs(mid: string, feedback: 'good' | 'bad', previous: 'good' | 'bad' | undefined): Promise<void>;
  onOptin(mid: string, on: boolean): Promise<void>;
  onBlock(on: boolean): Promise<void>;
  onReport(input: ReportInput): Promise<ReportView>;
  token: string;
}

function Conversation(props: ConvProps) {
  const { thread, st, pending, now, transport, onBack, onText, onPostback, onRetry, onMediaError, onMediaDue, onReact, onEdit, onRevealCoupon, onOptin, token } =
    props;
  const { onLogIn, onLogOut, linkingNotice, onDismissNotice, onSubmitFeedback, onThumbs, onBlock, onReport } = props;
  const profile = usePageProfile(thread.page_id, token);
  const [menuOpen, setMenuOpen] = useState(false);
  // The header's options (Block messages), and the confirmation a block asks for first.
  const [optionsOpen, setOptionsOpen] = useState(false);
  const [confirmBlock, setConfirmBlock] = useState(false);
  const [blockError, setBlockError] = useState<string | null>(null);
  // Report…: the dialog, then the notice that it was sent; the focus goes back to the options button after.
  const [reporting, setReporting] = useState(false);
  const [reportNotice, setReportNotice] = useState<string | null>(null);
  const optionsButton = useRef<HTMLButtonElement>(null);
  const blocked = thread.blocked === true;
  const menu = blocked ? [] : ((profile?.persistent_menu?.call_to_actions ?? []) as Button[]);
  // While the person blocks the Page they write nothing to it (the server refuses with THREAD.BLOCKED).
  const inputDisabled = blocked || (profile?.persistent_menu?.composer_input_disabled ?? false);
  const msgs = st?.messages ?? [];
  const listRef = useRef<HTMLOListElement>(null);
  const [text, setText] = useState('');
  // The message the next one answers (Reply on a message): shown above the composer until sent or cancelled.
  const [replyingTo, setReplyingTo] = useState<MessageView | null>(null);
  const lastOwn = useMemo(() => lastOwnMessage(msgs), [msgs]);
  const chips = blocked ? [] : quickReplyChips(msgs, pending.length);
  const att = useAttachments(thread.id, token);
  const composer = composerState(text, att.drafts);
  const textInput = useRef<HTMLInputElement>(null);
  const typing = (st?.typingUntil ?? 0) > now;

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [msgs.length, pending.length, typing, att.drafts.length]);
  useEffect(() => {
    onMediaDue(msgs, now);
  }, [now, msgs]);
  const byMid = useMemo(() => new Map(msgs.map((m) => [m.mid, m])), [msgs]);

  async function changeBlock(on: boolean) {
    setBlockError(null);
    try {
      await onBlock(on);
      setConfirmBlock(false);
    } catch (err) {
      setBlockError(`Could not ${on ? 'block' : 'unblock'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  async function sendReport(input: ReportInput) {
    const r = await onReport(input);
    setReporting(false);
    setReportNotice(
      `Thanks for letting us know. We’ll review this conversation; ${thread.page.name} won’t know you reported it.` +
        (input.block && r.blocked ? ` You blocked messages from ${thread.page.name}.` : ''),
    );
    optionsButton.current?.focus();
  }

  function submit(e: Event) {
    e.preventDefault();
    if (!composer.canSend || inputDisabled) return;
    const t = text.trim();
    onText(t || undefined, undefined, readyAttachments(att.drafts), replyingTo ? { mid: replyingTo.mid } : undefined);
    setReplyingTo(null);
    setText('');
    att.clear();
  }
  // Pasted or dropped files join the picked ones.
  function onPaste(e: ClipboardEvent) {
    const files = e.clipboardData?.files;
    if (files?.length) {
      e.preventDefault();
      att.add(files);
    }
  }
  const actions = {
    postback: onPostback,
    mediaError: onMediaError,
    logIn: onLogIn,
    logOut: onLogOut,
    revealCoupon: (m: MessageView) => onRevealCoupon(m.mid),
    submitFeedback: (m: MessageView, answers: FeedbackAnswer[]) => onSubmitFeedback(m.mid, answers),
    optin: (m: MessageView, on: boolean) => onOptin(m.mid, on),
    topicOf: (title: string) => st?.topics?.[title],
  };
  return (
    <main
      class="conversation"
      aria-label={`Conversation with ${thread.page.name}`}
      onDragOver={(e) => e.dataTransfer?.types.includes('Files') && !inputDisabled && e.preventDefault()}
      onDrop={(e) => {
        if (!e.dataTransfer?.files.length || inputDisabled) return;
        e.preventDefault();
        att.add(e.dataTransfer.files);
      }}
    >
      <header class="bar">
        <button type="button" class="back" aria-label="Back to chats" onClick={onBack}>
          ←
        </button>
        <span class="avatar" aria-hidden="true">
          {thread.page.name.slice(0, 1).toUpperCase()}
        </span>
        <h2 class="grow">{thread.page.name}</h2>
        {st?.linked && (
          <span class="linked" data-linked="true">
            Logged in ·{' '}
            <button type="button" class="link" aria-label={`Log out of ${thread.page.name}`} onClick={onLogOut}>
              Log out
            </button>
          </span>
        )}
        <span class={`transport ${transport}`} role="status" aria-label={`Connection: ${transport}`} data-transport={transport}>
          {transport === 'websocket'
            ? 'Live'
            : transport === 'long-poll'
              ? 'Live (polling)'
              : transport === 'offline'
                ? 'Reconnecting…'
                : 'Connecting…'}
        </span>
        <span class="conv-options">
          <button
            type="button"
            class="link"
            ref={optionsButton}
            aria-label="Conversation options"
            aria-haspopup="menu"
            aria-expanded={optionsOpen}
            onClick={() => setOptionsOpen(!optionsOpen)}
          >
            ⋯
          </button>
          {optionsOpen && (
            <ul class="options-menu" role="menu" aria-label="Conversation options">
              <li role="none">
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setOptionsOpen(false);
                    if (blocked) void changeBlock(false);
                    else setConfirmBlock(true);
                  }}
                >
                  {blocked ? 'Unblock messages' : 'Block messages'}
                </button>
              </li>
              <li role="none">
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setOptionsOpen(false);
                    setConfirmBlock(false);
                    setReportNotice(null);
                    setReporting(true);
                  }}
                >
                  Report…
                </button>
              </li>
            </ul>
          )}
        </span>
      </header>
      {confirmBlock && !blocked && (
        <div class="confirm" role="alertdialog" aria-label={`Block messages from ${thread.page.name}?`}>
          <p>
            <strong>Block messages from {thread.page.name}?</strong> {thread.page.name} won’t be able to message you here, and you won’t be
            able to write to it until you unblock. You keep the conversation.
          </p>
          <div class="confirm-actions">
            <button type="button" class="secondary" onClick={() => setConfirmBlock(false)}>
              Cancel
            </button>
            <button type="button" class="danger" onClick={() => void changeBlock(true)}>
              Block
            </button>
          </div>
        </div>
      )}
      {blockError && (
        <p class="error" role="alert">
          {blockError}
        </p>
      )}
      {reporting && (
        <ReportDialog
          pageName={thread.page.name}
          blocked={blocked}
          onSubmit={sendReport}
          onCancel={() => {
            setReporting(false);
            optionsButton.current?.focus();
          }}
        />
      )}
      {reportNotice && (
        <p class="linking-notice" role="status" aria-label="Report sent">
          {reportNotice}{' '}
          <button type="button" class="link" aria-label="Dismiss" onClick={() => setReportNotice(null)}>
            ×
          </button>
        </p>
      )}
      {linkingNotice && (
        <p class="linking-notice" role="status">
          {linkingNotice}{' '}
          <button type="button" class="link" aria-label="Dismiss" onClick={onDismissNotice}>
            ×
          </button>
        </p>
      )}
      <ol class="messages" ref={listRef} aria-label="Messages" aria-live="polite">
        {!msgs.length && !pending.length && st?.loaded && (
          // A new thread: the Page's greeting, Get Started and ice breakers (GET /pages/:id/profile).
          <li class="welcome center" aria-label="Welcome">
            <span class="avatar big" aria-hidden="true">
              {thread.page.name.slice(0, 1).toUpperCase()}
            </span>
            <h3>{thread.page.name}</h3>
            <p class="muted">{profile?.greeting ?? `Say hello to ${thread.page.name}.`}</p>
            {profile?.ice_breakers.length ? (
              <div class="chips center" role="group" aria-label="Ice breakers">
                {profile.ice_breakers.map((q, i) => (
                  <button type="button" class="chip" key={i} onClick={() => onPostback(q.question, q.payload)}>
                    {q.question}
                  </button>
                ))}
              </div>
            ) : null}
            {profile?.get_started && (
              <button type="button" class="primary" onClick={() => onPostback(profile.get_started!.title, profile.get_started!.payload)}>
                {profile.get_started.title}
              </button>
            )}
          </li>
        )}
        {msgs.map((m, i) => (
          <MessageItem
            key={m.mid}
            m={m}
            pageName={thread.page.name}
            // Blocked: the person writes nothing to the Page (the server refuses it), so nothing offers to.
            canEdit={!blocked && editable(m, now)}
            onReact={blocked ? undefined : (emoji, previous) => onReact(m.mid, emoji, previous)}
            onEdit={(text) => onEdit(m.mid, text)}
            onReply={
              inputDisabled
                ? undefined
                : () => {
                    setReplyingTo(m);
                    textInput.current?.focus();
                  }
            }
            status={
              m === lastOwn && !pending.length ? (
                <OwnStatusLine status={statusOf(m, st?.seenByPageSeq ?? 0, st?.deliveredToPageSeq ?? 0)} />
              ) : m.thumbs && !blocked ? (
                <Thumbs value={m.response_feedback} onPick={(v) => void onThumbs(m.mid, v, m.response_feedback).catch(() => undefined)} />
              ) : undefined
            }
          >
            <MessageBody
              key={st?.mediaGen[m.mid] ?? 0}
              m={m}
              actions={actions}
              reply={m.reply_to ? replyQuote(byMid.get(m.reply_to.mid), thread.page.name, m.sender) : undefined}
              byline={personaByline(msgs, i, thread.page.name)}
            />
          </MessageItem>
        ))}
        {pending.map((p) => (
          <li key={p.client_message_id} class="msg person pending">
            {p.attachments?.length ? (
              <div class="media-group">
                {p.attachments.map((a) => (
                  <Media key={a.media_id} type={a.type} payload={a.payload} />
                ))}
              </div>
            ) : null}
            {(p.postback?.title ?? p.text) && <div class="bubble">{p.postback?.title ?? p.text}</div>}
            {p.failed ? (
              <button type="button" class="link status" onClick={() => onRetry(p)}>
                Not sent — retry
              </button>
            ) : (
              <span class="status" data-status="Sending">
                Sending…
              </span>
            )}
          </li>
        ))}
        {typing && (
          <li class="msg page typing" aria-label={`${st?.typingAs ? `${st.typingAs.name} (${thread.page.name})` : thread.page.name} is typing`}>
            {st?.typingAs && <PersonaByline b={typingByline(st.typingAs, thread.page.name)} />}
            <div class="bubble dots">
              <span />
              <span />
              <span />
            </div>
          </li>
        )}
      </ol>
      <QuickReplyChips chips={chips} onPick={(q) => onText(q.title.trim() ? q.title : q.payload, { payload: q.payload })} />
      {menuOpen && menu.length > 0 && (
        <ul class="menu" aria-label="Menu">
          {menu.map((b, i) => (
            <li key={i} onClick={() => setMenuOpen(false)}>
              <TemplateButton b={b} actions={actions} />
            </li>
          ))}
        </ul>
      )}
      {att.drafts.length > 0 && <DraftList att={att} onRemoved={() => textInput.current?.focus()} />}
      {(att.notice || composer.hint) && (
        <p class="composer-hint" role="status">
          {att.notice ?? composer.hint}
        </p>
      )}
      {replyingTo && (
        <ReplyingBar
          quote={replyQuote(replyingTo, thread.page.name, 'person')}
          onCancel={() => {
            setReplyingTo(null);
            textInput.current?.focus();
          }}
        />
      )}
      {blocked && (
        <div class="blocked-banner" role="status" aria-label="Blocked">
          <span class="grow">You blocked messages from {thread.page.name}</span>
          <button type="button" class="link" onClick={() => void changeBlock(false)}>
            Unblock
          </button>
        </div>
      )}
      <form class="composer" onSubmit={submit} data-blocked={blocked ? 'true' : undefined}>
        {menu.length > 0 && (
          <button type="button" class="secondary" aria-expanded={menuOpen} aria-label="Menu" onClick={() => setMenuOpen(!menuOpen)}>
            ☰
          </button>
        )}
        <button type="button" class="secondary attach" aria-label="Attach files" disabled={inputDisabled} onClick={() => att.pick()}>
          <PaperclipIcon />
        </button>
        <input
          ref={att.input}
          type="file"
          multiple
          hidden
          aria-hidden="true"
          tabIndex={-1}
          data-testid="attach-input"
          onChange={(e) => {
            const el = e.currentTarget as HTMLInputElement;
            if (el.files?.length) att.add(el.files);
            el.value = '';
          }}
        />
        <label class="sr-only" for="composer-text">
          Message
        </label>
        <input
          id="composer-text"
          ref={textInput}
          placeholder={blocked ? 'Unblock to write' : 'Aa'}
          autoComplete="off"
          value={text}
          maxLength={1999}
          disabled={inputDisabled}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => e.key === 'Escape' && replyingTo && setReplyingTo(null)}
          onPaste={onPaste}
        />
        <button type="submit" class="primary" aria-label="Send" disabled={!composer.canSend || inputDisabled}>
          Send
        </button>
      </form>
    </main>
  );
}

// Above the composer while a reply is being written: what it answers, and a way out (the × or Escape in the box).
function ReplyingBar({ quote, onCancel }: { quote: ReplyQuote; onCancel(): void }) {
  return (
    <div class="replying" role="status" aria-label={`Replying to ${quote.who ?? 'an earlier message'}: ${quote.text}`}>
      <span class="grow" aria-hidden="true">
        <span class="reply-who">Replying to {quote.who}</span>
        <span class="reply-text">{quote.text}</span>
      </span>
      <button type="button" class="link" aria-label="Cancel reply" onClick={onCancel}>
        ×
      </button>
    </div>
  );
}

function OwnStatusLine({ status }: { status: OwnStatus }) {
  return (
    <span class="status" data-status={status}>
      {status}
    </span>
  );
}

// The person's view of a Page's Messenger Profile (GET /pages/:id/profile). A server
// without the route (or a Page without a profile) gives null: the thread simply has no greeting or menu.
function usePageProfile(pageId: string, token: string): PageProfile | null {
  const [profile, setProfile] = useState<PageProfile | null>(null);
  useEffect(() => {
    let live = true;
    const locale = (navigator.language || 'en-US').replace('-', '_');
    api<PageProfile>('GET', `/pages/${pageId}/profile`, undefined, { token, query: { locale } })
      .then((p) => live && setProfile(p))
      .catch(() => live && setProfile(null));
    return () => {
      live = false;
    };
  }, [pageId, token]);
  return profile;
}

function Root() {
  const [token, setToken] = useState(tokens.get());
  const set = (t: string | null) => {
    tokens.set(t);
    setToken(t);
  };
  const logout = () => {
    // Revoked on the server too (every socket opened with it closes); a token already dead answers 401, ignored.
    if (token) void api('POST', '/auth/logout', undefined, { token }).catch(() => undefined);
    set(null);
  };
  return token ? <Chat token={token} onLogout={logout} /> : <Auth title="Switchboard" onToken={set} />;
}

render(<Root />, document.getElementById('app')!);
