import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../api';
import type { MessageView } from '../api';
import {
  composerState,
  controlLabel,
  earlierQuery,
  emptyConversation,
  errorCode,
  InboxControl,
  InboxThread,
  mergeMessages,
  openingAfterSeq,
  outsideWindow,
  PAGE_INBOX_APP_ID,
  previewText,
  replyLine,
  readTarget,
  replyError,
  sentByLabel,
  sentView,
  shortTime,
  startPolling,
  templateSummary,
  feedbackStatus,
  typingSignal,
  unreadShown,
  withControl,
  withEarlierMessages,
  inList,
  listQuery,
  withFiled,
  withFirstPage,
  withNewMessages,
  withOlderPage,
  withSent,
} from './inbox';

const msg = (seq: number, sender: 'person' | 'page', extra: Partial<MessageView> = {}): MessageView => ({
  mid: `m.${seq}`,
  seq,
  sender,
  timestamp: 1_700_000_000_000 + seq * 1000,
  kind: 'message',
  text: `message ${seq}`,
  ...extra,
});
const BOT: InboxControl = { handover: true, controller_app_id: '42', controller_name: 'Shop bot', inbox_has_control: false };
const INBOX: InboxControl = { handover: true, controller_app_id: PAGE_INBOX_APP_ID, controller_name: 'Page Inbox', inbox_has_control: true };
const NO_HANDOVER: InboxControl = { handover: false, controller_app_id: null, controller_name: null, inbox_has_control: true };
const thread = (id: string, extra: Partial<InboxThread> = {}): InboxThread => ({
  id,
  psid: `psid-${id}`,
  person: { name: `Person ${id}` },
  last_message: msg(3, 'person'),
  unread_count: 1,
  blocked: false,
  last_timestamp: 1,
  control: BOT,
  done: false,
  assignee: null,
  ...extra,
});

describe('who controls a thread', () => {
  it('names the bot, the Page Inbox, or no one when the Page has no primary bot', () => {
    expect(controlLabel(BOT)).toBe('Bot: Shop bot');
    expect(controlLabel({ ...BOT, controller_name: null })).toBe('Bot: 42');
    expect(controlLabel(INBOX)).toBe('You (Page Inbox)');
    expect(controlLabel(NO_HANDOVER)).toBe('You (no bot in control)');
  });
  it('disables the reply box while a bot has it, and offers Take over; Hand back only with a bot to hand back to', () => {
    const bot = composerState(BOT);
    expect(bot).toMatchObject({ canSend: false, canTake: true, canRelease: false });
    expect(bot.reason).toMatch(/^Shop bot is handling this conversation/);
    expect(composerState(INBOX)).toEqual({ canSend: true, reason: null, canTake: false, canRelease: true });
    expect(composerState(NO_HANDOVER)).toEqual({ canSend: true, reason: null, canTake: false, canRelease: false });
  });
  it("puts a take's or release's answer on its row only", () => {
    const list = [thread('a'), thread('b')];
    const after = withControl(list, 'b', INBOX);
    expect(after.map((t) => t.control)).toEqual([BOT, INBOX]);
    expect(after[0]).toBe(list[0]);
  });
  it("reads a refusal's code from the console routes' error shape and from Nest's own", () => {
    expect(errorCode(new ApiError(409, { error: { code: 'INBOX.NOT_IN_CONTROL', message: 'x' } }))).toBe('INBOX.NOT_IN_CONTROL');
    expect(errorCode(new ApiError(404, { code: 'NOT_FOUND', message: 'Cannot GET /x' }))).toBe('NOT_FOUND');
    expect(errorCode(new Error('network'))).toBeUndefined();
  });
});

describe('the preview of a message', () => {
  it("says the text, the Page's own as You: or its persona's name", () => {
    expect(previewText(msg(1, 'person', { text: 'Hi\n  there' }))).toBe('Hi there');
    expect(previewText(msg(2, 'page', { text: 'Hello' }))).toBe('You: Hello');
    expect(previewText(msg(2, 'page', { text: 'Hello' }), 80, false)).toBe('Hello');
    expect(previewText(msg(2, 'page', { text: 'Hello', persona: { id: 'p', name: 'Ada' } }))).toBe('Ada: Hello');
    expect(previewText(null)).toBe('No messages yet');
  });
  it('shortens long text', () => {
    const p = previewText(msg(1, 'person', { text: 'x'.repeat(200) }), 20);
    expect(p).toHaveLength(20);
    expect(p.endsWith('…')).toBe(true);
  });
  it('says what media, postbacks and templates are', () => {
    const img = { type: 'image' as const, payload: { url: 'http://x/a.png' } };
    expect(previewText(msg(1, 'person', { text: undefined, attachments: [img] }))).toBe('Sent a photo');
    expect(previewText(msg(1, 'person', { text: undefined, attachments: [img, img] }))).toBe('Sent 2 photos');
    expect(previewText(msg(1, 'person', { text: undefined, attachments: [{ type: 'file', payload: {} }] }))).toBe('Sent a file');
    expect(previewText(msg(1, 'page', { text: undefined, attachment: { type: 'video', payload: { url: 'v' } } }))).toBe(
      'You: Sent a video',
    );
    expect(previewText(msg(1, 'person', { kind: 'postback', text: undefined, postback: { title: 'Start', payload: 'GO' } }))).toBe(
      'Tapped “Start”',
    );
    const button = {
      type: 'template' as const,
      payload: {
        template_type: 'button' as const,
        text: 'Pick one',
        buttons: [{ type: 'postback' as const, title: 'A', payload: 'a' }, { type: 'web_url' as const, title: 'B', url: 'https://b' }],
      },
    };
    expect(previewText(msg(1, 'page', { text: undefined, attachment: button }))).toBe('You: Buttons: Pick one [A, B]');
  });
  it('summarises each template', () => {
    expect(
      templateSummary({ type: 'template', payload: { template_type: 'generic', elements: [{ title: 'Shoe' }, { title: 'Hat' }] } }),
    ).toBe('Carousel: Shoe · Hat');
    expect(templateSummary({ type: 'template', payload: { template_type: 'generic', elements: [{ title: 'Shoe' }] } })).toBe(
      'Card: Shoe',
    );
    expect(
      templateSummary({
        type: 'template',
        payload: {
          template_type: 'receipt',
          recipient_name: 'Pat',
          merchant_name: 'Acme',
          order_number: '12',
          currency: 'EUR',
          payment_method: 'Visa',
          summary: { total_cost: 3 },
        },
      }),
    ).toBe('Receipt #12 from Acme');
    expect(
      templateSummary({ type: 'template', payload: { template_type: 'media', elements: [{ media_type: 'video', url: 'v' }] } }),
    ).toBe('Video with buttons');
    expect(templateSummary({ type: 'template', payload: { template_type: 'coupon', title: '10% off', coupon_code: '10PERCENT' } })).toBe(
      'Coupon: 10% off · code 10PERCENT',
    );
    expect(templateSummary({ type: 'template', payload: { template_type: 'notification_messages', title: 'Weekly deals', payload: 'D' } })).toBe(
      'Opt-in request: Weekly deals',
    );
    expect(templateSummary({ type: 'template', payload: { template_type: 'coupon', title: 'Sale', coupon_url: 'https://x.y' } })).toBe('Coupon: Sale');
    expect(templateSummary({ type: 'image', payload: { url: 'x' } })).toBeNull();
  });
  it('shows the clock today and the date before', () => {
    const now = new Date(2026, 4, 10, 15, 0).getTime();
    const earlier = new Date(2026, 4, 10, 9, 5).getTime();
    expect(shortTime(earlier, now)).toBe(new Date(earlier).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }));
    const lastWeek = new Date(2026, 4, 3, 9, 5).getTime();
    expect(shortTime(lastWeek, now)).toBe(new Date(lastWeek).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }));
    expect(shortTime(new Date(2025, 4, 3).getTime(), now)).toMatch(/2025/);
  });
});

describe('the thread list', () => {
  it('puts a fresh first page on top and keeps older pages below, each thread once', () => {
    const at = (id: string, ts: number, extra: Partial<InboxThread> = {}) => thread(id, { last_timestamp: ts, ...extra });
    const loaded = [at('b', 45), at('a', 40), at('c', 20), at('d', 10)];
    // c moved up; b was filed done by someone (newer than the fresh page's oldest, yet not on it): it goes.
    const fresh = [at('c', 50, { unread_count: 5 }), at('a', 40)];
    const out = withFirstPage(fresh, loaded, true);
    expect(out.map((t) => t.id)).toEqual(['c', 'a', 'd']);
    expect(out[0].unread_count).toBe(5);
    expect(withOlderPage(out, [at('d', 10), at('e', 5)]).map((t) => t.id)).toEqual(['c', 'a', 'd', 'e']);
    // A first page that is the whole list replaces it.
    expect(withFirstPage([at('a', 40)], loaded, false).map((t) => t.id)).toEqual(['a']);
  });
  it('files a thread: updated in place while it still fits the filter, gone when it left it', () => {
    const inbox = { folder: 'inbox' as const, assignee: 'all' as const };
    const mine = { folder: 'inbox' as const, assignee: 'me' as const };
    expect(listQuery(inbox)).toEqual({ folder: 'inbox' });
    expect(listQuery({ folder: 'done', assignee: 'none' })).toEqual({ folder: 'done', assignee: 'none' });
    expect(listQuery({ folder: 'inbox', assignee: 'all', name: '  Ada ' })).toEqual({ folder: 'inbox', q: 'Ada' });
    expect(listQuery({ folder: 'inbox', assignee: 'all', name: '   ' })).toEqual({ folder: 'inbox' });
    expect(inList(thread('a', { person: { name: 'Ada Lovelace' } }), { folder: 'inbox', assignee: 'all', name: 'love' }, 'u1')).toBe(true);
    expect(inList(thread('a', { person: { name: 'Bob' } }), { folder: 'inbox', assignee: 'all', name: 'love' }, 'u1')).toBe(false);
    const list = [thread('a'), thread('b')];
    const toMe = thread('a', { assignee: { id: 'u1', name: 'Me' } });
    expect(withFiled(list, toMe, inbox, 'u1')[0].assignee?.name).toBe('Me');
    expect(withFiled(list, thread('a', { done: true }), inbox, 'u1').map((t) => t.id)).toEqual(['b']);
    expect(inList(toMe, mine, 'u1')).toBe(true);
    expect(inList(toMe, mine, 'u2')).toBe(false);
    expect(inList(toMe, { folder: 'inbox', assignee: 'none' }, 'u1')).toBe(false);
    expect(inList(thread('a', { done: true }), { folder: 'done', assignee: 'all' }, 'u1')).toBe(true);
  });
  it("hides the badge of a thread this console marked read, until the person writes again", () => {
    const t = thread('a', { last_message: msg(7, 'person'), unread_count: 2 });
    expect(unreadShown(t, undefined)).toBe(2);
    expect(unreadShown(t, 7)).toBe(0);
    expect(unreadShown({ ...t, last_message: msg(8, 'person'), unread_count: 1 }, 7)).toBe(1);
    expect(unreadShown({ ...t, last_message: null, unread_count: 0 }, 7)).toBe(0);
  });
});

describe('the open conversation', () => {
  it('merges by seq, ascending, each seq once (a re-fetched one replaces the shown one)', () => {
    const list = [msg(1, 'person'), msg(3, 'page')];
    const out = mergeMessages(list, [msg(3, 'page', { text: 'edited' }), msg(2, 'person'), msg(4, 'person')]);
    expect(out.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(out[2].text).toBe('edited');
    expect(mergeMessages(list, [])).toBe(list);
  });
  it('opens on the last messages and pages up from the first one shown', () => {
    expect(openingAfterSeq(0)).toBe(0);
    expect(openingAfterSeq(30)).toBe(0);
    expect(openingAfterSeq(130)).toBe(80);
    let c = withNewMessages(emptyConversation(80), [msg(81, 'person'), msg(130, 'person')]);
    expect(c.hasEarlier).toBe(true);
    expect(c.fetchedSeq).toBe(130);
    const q = earlierQuery(c)!;
    expect(q).toEqual({ after_seq: 30, limit: 50 });
    c = withEarlierMessages(c, [msg(31, 'person'), msg(80, 'page')], q.after_seq);
    expect(earlierQuery(c)).toEqual({ after_seq: 0, limit: 30 });
    c = withEarlierMessages(c, [msg(1, 'person')], 0);
    expect(c.hasEarlier).toBe(false);
    expect(earlierQuery(c)).toBeNull();
    expect(c.messages.map((m) => m.seq)).toEqual([1, 31, 80, 81, 130]);
  });
  it("asks for new messages after what was fetched, not after a reply's seq (a message may sit below it)", () => {
    let c = withNewMessages(emptyConversation(0), [msg(1, 'person'), msg(2, 'person')]);
    c = withSent(c, sentView('On it', { mid: 'm.4', seq: 4, timestamp: 9 }, 'w-1'));
    expect(c.fetchedSeq).toBe(2);
    expect(c.messages[2]).toEqual({ mid: 'm.4', seq: 4, timestamp: 9, sender: 'page', kind: 'message', text: 'On it', app_id: PAGE_INBOX_APP_ID, client_message_id: 'w-1' });
    c = withNewMessages(c, [msg(3, 'person'), msg(4, 'page', { text: 'On it' })]);
    expect(c.fetchedSeq).toBe(4);
    expect(c.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(withNewMessages(c, [])).toBe(c);
  });
  it('marks read when the person wrote after what was marked, up to the last message shown', () => {
    const ms = [msg(1, 'person'), msg(2, 'person'), msg(3, 'page')];
    expect(readTarget(ms, 0)).toBe(3);
    expect(readTarget(ms, 3)).toBeNull();
    expect(readTarget(ms, 2)).toBeNull();
    expect(readTarget([...ms, msg(4, 'person')], 3)).toBe(4);
    expect(readTarget([msg(1, 'page')], 0)).toBeNull();
  });
  it('hints that the human-agent window closed 7 days after the person last wrote', () => {
    const now = 1_700_000_000_000 + 8 * 24 * 3600_000;
    expect(outsideWindow([msg(1, 'person'), msg(2, 'page', { timestamp: now })], now)).toBe(true);
    expect(outsideWindow([msg(1, 'person', { timestamp: now - 3600_000 })], now)).toBe(false);
    expect(outsideWindow([], now)).toBe(false);
  });
  it('checks a reply as the API does (1..1999 code points, not blank)', () => {
    expect(replyError('  \n')).toBe('Write a message first.');
    expect(replyError('ok')).toBeNull();
    expect(replyError('x'.repeat(1999))).toBeNull();
    expect(replyError('x'.repeat(2000))).toBe('A reply is at most 1999 characters (this one has 2000).');
    // An emoji is one character (two UTF-16 units).
    expect(replyError('😀'.repeat(1999))).toBeNull();
  });
});

describe('typing', () => {
  it('says on when writing starts and again every few seconds, off when the box is emptied', () => {
    const off = { on: false, sentAt: 0 };
    const on = { on: true, sentAt: 10_000 };
    expect(typingSignal(off, 'H', 10_000)).toBe('on');
    expect(typingSignal(off, '   ', 10_000)).toBeNull();
    expect(typingSignal(on, 'Hi', 12_000)).toBeNull();
    expect(typingSignal(on, 'Hi th', 15_000)).toBe('on');
    expect(typingSignal(on, '', 12_000)).toBe('off');
  });
});

describe('polling', () => {
  // Hand-driven timers: run() fires the pending one.
  function fakeTimers() {
    let pending: { fn: () => void; ms: number } | null = null;
    return {
      timers: {
        setTimeout: (fn: () => void, ms: number) => (pending = { fn, ms }),
        clearTimeout: () => (pending = null),
      },
      get pending() {
        return pending;
      },
      fire() {
        const p = pending!;
        pending = null;
        p.fn();
      },
    };
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it('runs at once, then every interval after each run settles, never two at once', async () => {
    const t = fakeTimers();
    let runs = 0;
    let release!: () => void;
    const poller = startPolling(
      () => (runs++, new Promise<void>((r) => (release = r))),
      3000,
      () => true,
      t.timers,
    );
    expect(runs).toBe(1);
    expect(t.pending).toBeNull();
    poller.wake();
    expect(runs).toBe(1);
    release();
    await settle();
    expect(t.pending?.ms).toBe(3000);
    t.fire();
    expect(runs).toBe(2);
    poller.stop();
    release();
    await settle();
    expect(t.pending).toBeNull();
  });
  it('goes idle while inactive (tab hidden, section out of view) and resumes on wake', async () => {
    const t = fakeTimers();
    let runs = 0;
    let active = true;
    const poller = startPolling(async () => void runs++, 3000, () => active, t.timers);
    await settle();
    active = false;
    t.fire();
    expect(runs).toBe(1);
    expect(t.pending).toBeNull();
    poller.wake();
    expect(runs).toBe(1);
    active = true;
    poller.wake();
    expect(runs).toBe(2);
    await settle();
    // A wake with a tick scheduled changes nothing.
    poller.wake();
    expect(runs).toBe(2);
    poller.stop();
  });
  it('runs at once when told something changed, or once more right after a run in progress', async () => {
    const t = fakeTimers();
    let runs = 0;
    let release!: () => void;
    let slow = 3000;
    const poller = startPolling(() => (runs++, new Promise<void>((r) => (release = r))), () => slow, () => true, t.timers);
    release();
    await settle();
    expect(t.pending?.ms).toBe(3000);
    // A tick was scheduled: now() runs at once and the old tick is gone.
    poller.now();
    expect(runs).toBe(2);
    expect(t.pending).toBeNull();
    // During a run: one more run follows it, however many hints came.
    poller.now();
    poller.now();
    expect(runs).toBe(2);
    slow = 30_000;
    release();
    await settle();
    expect(runs).toBe(3);
    release();
    await settle();
    expect(runs).toBe(3);
    // The interval is read at each scheduling.
    expect(t.pending?.ms).toBe(30_000);
    poller.stop();
    poller.now();
    expect(runs).toBe(3);
  });
  it('keeps runs that hints ask for at least the gap apart', async () => {
    let clock = 0;
    const pending: { fn: () => void; ms: number }[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number) => (pending.push({ fn, ms }), pending.length - 1),
      clearTimeout: (h: unknown) => void (pending[h as number] = { fn: () => undefined, ms: -1 }),
      now: () => clock,
    };
    let runs = 0;
    const poller = startPolling(async () => void runs++, 30_000, () => true, timers, 1000);
    await settle();
    expect(runs).toBe(1);
    // A hint 200 ms after that run: it waits out the rest of the gap, and more hints meanwhile add nothing.
    clock = 200;
    poller.now();
    poller.now();
    expect(runs).toBe(1);
    const due = pending.filter((p) => p.ms >= 0);
    expect(due.map((p) => p.ms)).toEqual([800]);
    clock = 1000;
    due[0].fn();
    expect(runs).toBe(2);
    await settle();
    // Long after: at once.
    clock = 5000;
    poller.now();
    expect(runs).toBe(3);
    poller.stop();
  });
  it('keeps going after a failed run', async () => {
    const t = fakeTimers();
    let runs = 0;
    const poller = startPolling(async () => (runs++, Promise.reject(new Error('offline'))), 3000, () => true, t.timers);
    await settle();
    t.fire();
    await settle();
    expect(runs).toBe(2);
    expect(t.pending).not.toBeNull();
    poller.stop();
  });
});

describe('sentByLabel', () => {
  const names = new Map([['431456886456569', 'Shop bot']]);
  const page = (app_id?: string): MessageView => ({ mid: 'm_1', seq: 1, sender: 'page', timestamp: 1, kind: 'message', text: 'hi', ...(app_id ? { app_id } : {}) });
  it("names the Page's people, a connected app, or another app; nothing for the person or a Page message of no app", () => {
    expect(sentByLabel(page(PAGE_INBOX_APP_ID), names)).toBe('You (Page Inbox)');
    expect(sentByLabel(page('431456886456569'), names)).toBe('Shop bot');
    expect(sentByLabel(page('999'), names)).toBe('Another app');
    expect(sentByLabel(page(), names)).toBeNull();
    expect(sentByLabel({ ...page('431456886456569'), sender: 'person' }, names)).toBeNull();
  });
});

describe('reply lines', () => {
  it('say what a message answers: whose, and how it began', () => {
    const question = msg(1, 'page', { mid: 'm_q', text: 'Which size?' });
    const asAgent = msg(2, 'page', { mid: 'm_a', text: 'Ada here', persona: { id: '1', name: 'Ada' } });
    const own = msg(3, 'person', { mid: 'm_o', text: 'Blue ones' });
    const reply = (to: string, sender: 'person' | 'page' = 'person') => msg(9, sender, { text: 'x', reply_to: { mid: to } });
    expect(replyLine(reply('m_q'), question, 'Pat')).toBe('Replying to the Page: Which size?');
    expect(replyLine(reply('m_a'), asAgent, 'Pat')).toBe('Replying to Ada: Ada here');
    expect(replyLine(reply('m_o'), own, 'Pat')).toBe('Replying to their own message: Blue ones');
    expect(replyLine(reply('m_o', 'page'), own, 'Pat')).toBe('Replying to Pat: Blue ones');
    expect(replyLine(reply('m_gone'), undefined, 'Pat')).toBe('Replying to an earlier message');
    expect(replyLine(question, undefined, 'Pat')).toBeNull();
  });
});

describe('feedbackStatus', () => {
  it('says whether the person answered, what, and whether it is too late', () => {
    expect(feedbackStatus({ expires_at: 10 }, 5)).toBe('not answered yet');
    expect(feedbackStatus({ expires_at: 10 }, 11)).toBe('expired unanswered');
    expect(
      feedbackStatus(
        { expires_at: 10, submitted_at: 6, feedback_screens: [{ screen_id: 0, questions: { q: { type: 'csat', payload: '4', follow_up: { type: 'free_form', payload: 'Nice' } } } }] },
        99,
      ),
    ).toBe('answered CSAT 4 "Nice"');
    expect(templateSummary({ type: 'template', payload: { template_type: 'customer_feedback', title: 'Rate us', button_title: 'Rate', feedback_screens: [], business_privacy: { url: 'https://x.y' } } })).toBe(
      'Feedback request: Rate us',
    );
  });
});
