// The Page Inbox: a Page's own people read and answer its conversations (GET /pages/:id/inbox, .../messages,
// take, release, read). What the list and the conversation show, how polled pages merge, when to mark read, and
// the polling loop itself. Pure, no DOM: inbox.spec.ts.
import { buttonLabel } from '../../../libs/templates/button-label';
import { ApiError } from '../api';
import type { Attachment, FeedbackState, MessageView, PersonAttachment } from '../api';

// Messenger's app id of the Page Inbox, as thread control names it (src/handover).
export const PAGE_INBOX_APP_ID = '263902037430900';
// The server's window for a human agent's reply after the person's last message.
export const HUMAN_AGENT_WINDOW_MS = 7 * 24 * 3600_000;
export const POLL_MS = 3000;
// While the server pushes hints (InboxFeed), polling is only a safety net for a hint lost on the way.
export const LIVE_POLL_MS = 30_000;
// How many messages a thread opens with; "Show earlier" loads as many again.
export const WINDOW = 50;
// InboxSendDto: fewer than 2000 characters (code points, as Messenger counts them).
export const MAX_REPLY = 1999;

// The thread's control as the inbox routes give it. handover false: the Page has no primary bot, and the Inbox
// may always reply (controller null).
export interface InboxControl {
  handover: boolean;
  controller_app_id: string | null;
  controller_name: string | null;
  inbox_has_control: boolean;
}
export interface InboxThread {
  id: string;
  psid: string;
  person: { name: string };
  last_message: MessageView | null;
  unread_count: number;
  last_timestamp: number;
  control: InboxControl;
  // Marked done (it comes back by itself when the person writes again).
  done: boolean;
  // The person blocked messages from the Page: the conversation can be read, not answered.
  blocked: boolean;
  assignee: { id: string; name: string } | null;
}
// A note the Page's people left on a conversation (GET /pages/:id/inbox/:thread/notes), oldest first.
export interface InboxNote {
  id: string;
  author: { id: string; name: string };
  text: string;
  created_at: string;
}

// One of the Page's personas (GET /pages/:id/inbox/personas): a name and picture to reply as.
export interface InboxPersona {
  id: string;
  name: string;
  profile_picture_url: string;
}
export interface InboxPage {
  data: InboxThread[];
  paging: { next_cursor: string | null };
}

// The stable code of a refusal (console routes answer {error:{code}}, Nest's own 404 {code}).
export function errorCode(err: unknown): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  return err.body?.error?.code ?? err.body?.code;
}

// --- control ---

// Who has the thread, in the list's words: the Page's people or the app controlling it.
export function controlLabel(c: InboxControl): string {
  if (!c.handover) return 'You (no bot in control)';
  if (c.inbox_has_control) return 'You (Page Inbox)';
  return `Bot: ${c.controller_name ?? c.controller_app_id ?? 'unknown app'}`;
}

export interface Composer {
  canSend: boolean;
  // Why the reply box is disabled; null when it is not.
  reason: string | null;
  canTake: boolean;
  canRelease: boolean;
}

// What the conversation pane offers: the reply box only with control; Take over while a bot has it; Hand back
// only when there is a primary bot to hand back to.
export function composerState(c: InboxControl): Composer {
  if (!c.handover) return { canSend: true, reason: null, canTake: false, canRelease: false };
  if (c.inbox_has_control) return { canSend: true, reason: null, canTake: false, canRelease: true };
  const bot = c.controller_name ?? 'A bot';
  return {
    canSend: false,
    reason: `${bot} is handling this conversation. Take over to reply; the bot gets the messages again when you hand it back.`,
    canTake: true,
    canRelease: false,
  };
}

// The list's rows after a take or release answered with the thread's new control.
export function withControl(threads: InboxThread[], id: string, control: InboxControl): InboxThread[] {
  return threads.map((t) => (t.id === id ? { ...t, control } : t));
}

// --- what a message says in a few words ---

function attachmentWords(first: Attachment | PersonAttachment, n: number): string {
  if (first.type === 'image') return n > 1 ? `${n} photos` : 'a photo';
  if (first.type === 'video') return n > 1 ? `${n} videos` : 'a video';
  if (first.type === 'audio') return n > 1 ? `${n} audio clips` : 'an audio clip';
  return n > 1 ? `${n} files` : 'a file';
}

// A template (generic carousel, button, receipt, media, coupon, customer feedback, opt-in request) in one line, as the pane summarises it.
export function templateSummary(a: Attachment): string | null {
  if (a.type !== 'template') return null;
  const p = a.payload;
  switch (p.template_type) {
    case 'generic': {
      const titles = p.elements.map((e) => e.title);
      return titles.length > 1 ? `Carousel: ${titles.join(' · ')}` : `Card: ${titles[0] ?? ''}`;
    }
    case 'button':
      return `Buttons: ${p.text} [${p.buttons.map(buttonLabel).join(', ')}]`;
    case 'receipt':
      return `Receipt #${p.order_number}${p.merchant_name ? ` from ${p.merchant_name}` : ''}`;
    case 'media':
      return `${p.elements[0]?.media_type === 'video' ? 'Video' : 'Image'} with buttons`;
    // The Page's people see the code, revealed or not (the person sees it once they tap Reveal).
    case 'coupon':
      return `Coupon: ${p.title}${p.coupon_code !== undefined ? ` · code ${p.coupon_code}` : ''}`;
    case 'customer_feedback':
      return `Feedback request: ${p.title}`;
    case 'notification_messages':
      return `Opt-in request: ${p.title}`;
    default:
      return 'Template message';
  }
}

// Where a feedback request stands, for the Page's people: the person's scores (and words) once they answered.
export function feedbackStatus(f: FeedbackState, now: number): string {
  if (f.submitted_at === undefined) return now > f.expires_at ? 'expired unanswered' : 'not answered yet';
  const answers = (f.feedback_screens ?? []).flatMap((s) => Object.values(s.questions));
  return `answered ${answers.map((a) => `${a.type.toUpperCase()} ${a.payload}${a.follow_up ? ` "${a.follow_up.payload}"` : ''}`).join(', ')}`;
}

const shorten = (s: string, max: number) => (s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s);

// The list's one-line preview of the last message, read from the Page's side: its own messages start "You: ".
// Who sent one of the Page's messages, for the Page's own people: "You (Page Inbox)", the app's name, or
// "Another app" (one no longer connected); null for the person's messages and a Page message of no app.
export function sentByLabel(m: MessageView, appNames: ReadonlyMap<string, string>): string | null {
  if (m.sender !== 'page' || !m.app_id) return null;
  if (m.app_id === PAGE_INBOX_APP_ID) return 'You (Page Inbox)';
  return appNames.get(m.app_id) ?? 'Another app';
}

// `withWho`: "You: " or the persona before the Page's messages, as the list shows them.
export function previewText(m: MessageView | null | undefined, max = 80, withWho = true): string {
  if (!m) return 'No messages yet';
  const who = withWho && m.sender === 'page' ? (m.persona ? `${m.persona.name}: ` : 'You: ') : '';
  let what: string;
  if (m.kind === 'postback') what = `Tapped “${m.postback?.title ?? ''}”`;
  else if (m.text) what = m.text.replace(/\s+/g, ' ').trim();
  else if (m.attachment?.type === 'template') what = templateSummary(m.attachment) ?? 'Template message';
  else if (m.attachment || m.attachments?.length) {
    const first = (m.attachment ?? m.attachments![0])!;
    what = `Sent ${attachmentWords(first, m.attachments?.length ?? 1)}`;
  } else what = 'Message';
  return shorten(who + what, max);
}

// What a message answers (its reply_to), said above it in the pane: whose message and how it began. `quoted`:
// undefined when it is not among the messages loaded.
export function replyLine(m: MessageView, quoted: MessageView | undefined, person: string): string | null {
  if (!m.reply_to) return null;
  if (!quoted) return 'Replying to an earlier message';
  const who = quoted.sender === 'person' ? (m.sender === 'person' ? 'their own message' : person) : (quoted.persona?.name ?? 'the Page');
  return `Replying to ${who}: ${previewText(quoted, 60, false)}`;
}

// A time in the list: the clock today, the date before.
export function shortTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const today = new Date(now);
  if (d.toDateString() === today.toDateString()) return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', ...(d.getFullYear() !== today.getFullYear() ? { year: 'numeric' } : {}) });
}

// --- the thread list ---

// A fresh first page on top, then what older pages had below it, each thread once: one that moved up is taken
// from the fresh page, one older than the whole fresh page stays below (the next "Load more" re-reads it). One
// that should be on the fresh page but isn't has left the list (filed done or assigned away by someone): it goes,
// as does everything else when the fresh page is the whole list (`more` false).
export function withFirstPage(firstPage: InboxThread[], loaded: InboxThread[], more: boolean): InboxThread[] {
  if (!more) return firstPage;
  const fresh = new Set(firstPage.map((t) => t.id));
  const floor = firstPage.length ? firstPage[firstPage.length - 1].last_timestamp : Infinity;
  // A tie with the floor may belong on the next page (the server breaks ties by more than the client sees): kept.
  return [...firstPage, ...loaded.filter((t) => !fresh.has(t.id) && t.last_timestamp <= floor)];
}

// --- filing ---

export type Folder = 'inbox' | 'done';
export type AssigneeFilter = 'all' | 'me' | 'none';
export interface ListFilter {
  folder: Folder;
  assignee: AssigneeFilter;
  // Part of the person's name ('' : anyone).
  name?: string;
}
// The list route's query for a filter.
export function listQuery(f: ListFilter): { folder: Folder; assignee?: 'me' | 'none'; q?: string } {
  const q = f.name?.trim().slice(0, 100);
  return { folder: f.folder, ...(f.assignee === 'all' ? {} : { assignee: f.assignee }), ...(q ? { q } : {}) };
}
// Whether a thread (as the server just answered it) still belongs in the list shown.
export function inList(t: InboxThread, f: ListFilter, me: string): boolean {
  if (t.done !== (f.folder === 'done')) return false;
  const q = f.name?.trim().toLowerCase();
  if (q && !t.person.name.toLowerCase().includes(q)) return false;
  if (f.assignee === 'me') return t.assignee?.id === me;
  if (f.assignee === 'none') return t.assignee === null;
  return true;
}
// The list after filing one of its threads: updated in place, or gone when it left the filter.
export function withFiled(threads: InboxThread[], filed: InboxThread, f: ListFilter, me: string): InboxThread[] {
  return inList(filed, f, me) ? threads.map((t) => (t.id === filed.id ? filed : t)) : threads.filter((t) => t.id !== filed.id);
}
export function withOlderPage(loaded: InboxThread[], older: InboxThread[]): InboxThread[] {
  const shown = new Set(loaded.map((t) => t.id));
  return [...loaded, ...older.filter((t) => !shown.has(t.id))];
}

// The badge: the server's count, except that a thread this console marked read up to its last message shows none
// while a list fetched before the read landed still counts it.
export function unreadShown(t: InboxThread, markedUpTo: number | undefined): number {
  if (markedUpTo !== undefined && t.last_message && t.last_message.seq <= markedUpTo) return 0;
  return t.unread_count;
}

// --- the open conversation ---

export interface Conversation {
  // Ascending seq, each seq once.
  messages: MessageView[];
  // Everything up to this seq has been fetched (the next poll asks after it). A reply's own answer is merged
  // without raising it: a person's message may have taken the seq below it meanwhile.
  fetchedSeq: number;
  // Older messages than the first shown exist.
  hasEarlier: boolean;
}

// Messages merged by seq, ascending; a seq fetched again (an edit, a re-fetch) replaces what was shown.
export function mergeMessages(list: MessageView[], incoming: MessageView[]): MessageView[] {
  if (!incoming.length) return list;
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  for (const m of incoming) bySeq.set(m.seq, m);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

const maxSeq = (ms: MessageView[]) => ms.reduce((n, m) => Math.max(n, m.seq), 0);

// Where a thread opens: the last WINDOW messages before its last one (the API pages up from after_seq).
export function openingAfterSeq(lastSeq: number, size = WINDOW): number {
  return Math.max(0, lastSeq - size);
}

// The page of messages just before the first one shown.
export function earlierQuery(c: Conversation, size = WINDOW): { after_seq: number; limit: number } | null {
  const first = c.messages[0]?.seq;
  if (!c.hasEarlier || first === undefined || first <= 1) return null;
  const after = Math.max(0, first - 1 - size);
  return { after_seq: after, limit: first - 1 - after };
}

export function emptyConversation(afterSeq: number): Conversation {
  return { messages: [], fetchedSeq: afterSeq, hasEarlier: afterSeq > 0 };
}

// A polled page of new messages (after fetchedSeq).
export function withNewMessages(c: Conversation, page: MessageView[]): Conversation {
  if (!page.length) return c;
  return { ...c, messages: mergeMessages(c.messages, page), fetchedSeq: Math.max(c.fetchedSeq, maxSeq(page)) };
}

// Earlier messages loaded above (afterSeq: where that page started).
export function withEarlierMessages(c: Conversation, page: MessageView[], afterSeq: number): Conversation {
  return { ...c, messages: mergeMessages(c.messages, page), hasEarlier: afterSeq > 0 };
}

// The Page's reply as the list will show it, drawn from the send's answer.
export function sentView(
  text: string,
  sent: { mid: string; seq: number; timestamp: number },
  clientId?: string,
  persona?: InboxPersona,
): MessageView {
  return {
    ...(persona ? { persona: { id: persona.id, name: persona.name, profile_picture_url: persona.profile_picture_url } } : {}),
    mid: sent.mid,
    seq: sent.seq,
    timestamp: sent.timestamp,
    sender: 'page',
    kind: 'message',
    text,
    app_id: PAGE_INBOX_APP_ID,
    ...(clientId ? { client_message_id: clientId } : {}),
  };
}
export function withSent(c: Conversation, m: MessageView): Conversation {
  return { ...c, messages: mergeMessages(c.messages, [m]) };
}

// Mark read: the seq to mark up to when the person wrote something after what this console last marked
// (null: nothing new). A thread that opened with unread messages starts at 0.
export function readTarget(messages: MessageView[], markedUpTo: number): number | null {
  let lastPerson = 0;
  for (const m of messages) if (m.sender === 'person') lastPerson = Math.max(lastPerson, m.seq);
  return lastPerson > markedUpTo ? maxSeq(messages) : null;
}

// The person's last message is older than the human-agent window: the server refuses a reply
// (INBOX.OUTSIDE_WINDOW). Only a hint: the messages loaded may not include the person's last one.
export function outsideWindow(messages: MessageView[], now = Date.now()): boolean {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i].sender === 'person') return now - messages[i].timestamp > HUMAN_AGENT_WINDOW_MS;
  return false;
}

// The reply box's text as the API takes it (1..1999 code points, not blank), or why not.
export function replyError(text: string): string | null {
  if (!text.trim()) return 'Write a message first.';
  const n = [...text].length;
  if (n > MAX_REPLY) return `A reply is at most ${MAX_REPLY} characters (this one has ${n}).`;
  return null;
}

// --- typing ---

// How often "typing" is said again while someone keeps writing (the person's indicator lasts 20 s on the server).
export const TYPING_REPEAT_MS = 5000;
export interface TypingState {
  on: boolean;
  sentAt: number;
}
// What a change of the reply box tells the person: 'on' when writing starts (and again every TYPING_REPEAT_MS while
// it goes on), 'off' when the box is emptied; null: nothing new to say.
export function typingSignal(s: TypingState, draft: string, now: number): 'on' | 'off' | null {
  if (draft.trim()) return !s.on || now - s.sentAt >= TYPING_REPEAT_MS ? 'on' : null;
  return s.on ? 'off' : null;
}

// --- polling ---

export interface Poller {
  // Something changed (the tab shown again, the section scrolled into view): run now if the loop was idle.
  wake(): void;
  // The server said something changed: run now (or, if a run is in progress, once more right after it), if active.
  now(): void;
  stop(): void;
}
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now?(): number;
}
// Runs that now() asks for start at least this far apart: a busy Page's hints (every 100 ms from each server
// process) turn into about one re-read a second per console, not ten.
export const MIN_HINT_GAP_MS = 1000;

// Runs `task` now and every `ms` after each run settles (never two at once), but only while `active()`: a tick
// that finds it inactive leaves the loop idle until wake(). A failing task does not stop the loop (the caller
// shows its error; the next tick may succeed). `ms` may change between runs (slower while hints are pushed).
// now() runs at once, or as soon as `minGapMs` has passed since the last run started.
export function startPolling(
  task: () => Promise<unknown>,
  ms: number | (() => number),
  active: () => boolean,
  timers: Timers = { setTimeout: (fn, t) => setTimeout(fn, t), clearTimeout: (h) => clearTimeout(h as number) },
  minGapMs = 0,
): Poller {
  // A monotonic clock: a wall clock stepped back would stretch the gap (and hold hints) by as much.
  const clock = () => (timers.now ? timers.now() : performance.now());
  let stopped = false;
  let running = false;
  let lastStart = -Infinity;
  // The scheduled tick is now()'s (soon), not the interval's.
  let soon = false;
  // now() during a run: what the run read may predate the change, so one more follows it.
  let again = false;
  let timer: unknown = null;
  const schedule = () => {
    soon = false;
    if (!stopped) timer = timers.setTimeout(tick, typeof ms === 'function' ? ms() : ms);
  };
  // A run as soon as the gap allows.
  const hurry = () => {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    const wait = lastStart + minGapMs - clock();
    if (wait <= 0) return tick();
    soon = true;
    timer = timers.setTimeout(tick, wait);
  };
  function tick() {
    timer = null;
    soon = false;
    if (stopped || running) return;
    if (!active()) return; // idle until wake()
    running = true;
    lastStart = clock();
    task()
      .catch(() => undefined)
      .finally(() => {
        running = false;
        if (stopped) return;
        if (again) {
          again = false;
          hurry();
        } else schedule();
      });
  }
  tick();
  return {
    wake() {
      // A run in progress or a tick scheduled: the loop is not idle.
      if (stopped || running || timer !== null) return;
      tick();
    },
    now() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      // Already due soon: that run will read the change too.
      if (soon) return;
      hurry();
    },
    stop() {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
      timer = null;
    },
  };
}
