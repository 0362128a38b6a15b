import { describe, expect, it } from '@jest/globals';
import type { MessageView, ThreadSummary, UploadedAttachment } from '../api';
import {
  acceptCursor,
  briefContent,
  lastOwnMessage,
  marksFromEvent,
  mergeMessages,
  Pending,
  quickReplyChips,
  raiseMarks,
  replyQuote,
  retryable,
  unreadAfterOwnRead,
  historyStart,
  sendRequest,
  sentView,
  statusOf,
  summary,
  upsertMessage,
  withFirstPage,
  withOlderPage,
} from './thread-logic';

const msg = (seq: number, sender: 'person' | 'page', extra: Partial<MessageView> = {}): MessageView => ({
  mid: `m_${seq}`,
  seq,
  sender,
  timestamp: 1000 + seq,
  kind: 'message',
  text: `t${seq}`,
  ...extra,
});

const photo: UploadedAttachment = {
  media_id: '42',
  type: 'image',
  payload: {
    media_id: '42',
    url: 'http://h/media/42/display.webp?exp=1&sig=a',
    thumbnail_url: 'http://h/media/42/thumb.webp?exp=1&sig=b',
    width: 800,
    height: 600,
  },
};

describe('messages by mid and seq', () => {
  it('keeps one copy of a message however often it arrives, in seq order', () => {
    const a = msg(1, 'person');
    const b = msg(2, 'page');
    const c = msg(3, 'page');
    let list = upsertMessage([], c);
    list = upsertMessage(list, a);
    list = upsertMessage(list, b);
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3]);
    // The socket's echo after the send's own answer: same mid, nothing added, same array.
    expect(upsertMessage(list, { ...a, text: 'other copy' })).toBe(list);
    // History over what live events already brought: the overlap once.
    const merged = mergeMessages([b], [a, b, c, c]);
    expect(merged.map((m) => m.mid)).toEqual(['m_1', 'm_2', 'm_3']);
  });
});

describe('the history a conversation opens with', () => {
  it('is the newest messages: a long thread starts past its beginning, a short one at it', () => {
    expect(historyStart(2150, 2000)).toBe(150);
    expect(historyStart(2000, 2000)).toBe(0);
    expect(historyStart(12, 2000)).toBe(0);
    expect(historyStart(0, 2000)).toBe(0);
  });
});

describe("the list's count after a read on another device", () => {
  const page = (timestamp: number) => ({ mid: `m_${timestamp}`, seq: timestamp, sender: 'page', timestamp, kind: 'message' }) as MessageView;
  it('clears when the read covers the last message, and is the server\'s to say otherwise', () => {
    expect(unreadAfterOwnRead({ unread_count: 2, last_message: page(200) }, 200)).toBe(0);
    expect(unreadAfterOwnRead({ unread_count: 2, last_message: page(200) }, 100)).toBeNull();
    expect(unreadAfterOwnRead({ unread_count: 0, last_message: page(200) }, 100)).toBe(0);
    expect(unreadAfterOwnRead({ unread_count: 1, last_message: null }, 100)).toBe(0);
  });
});

describe('the feed cursor', () => {
  it('drops events at or below the highest cursor, passes typing and newer ones', () => {
    expect(acceptCursor(null, { cursor: 5 })).toEqual({ accept: true, cursor: 5 });
    expect(acceptCursor(5, { cursor: 5 })).toEqual({ accept: false, cursor: 5 });
    expect(acceptCursor(5, { cursor: 3 })).toEqual({ accept: false, cursor: 5 });
    expect(acceptCursor(5, { cursor: 6 })).toEqual({ accept: true, cursor: 6 });
    expect(acceptCursor(5, {})).toEqual({ accept: true, cursor: 5 });
    expect(acceptCursor(null, {})).toEqual({ accept: true, cursor: null });
  });

  it('a reconnect replaying overlapping events delivers each once', () => {
    let cursor: number | null = null;
    const seen: number[] = [];
    for (const c of [1, 2, 3, /* reconnect after=2 */ 3, 4, /* poll and socket overlap */ 4, 5]) {
      const r = acceptCursor(cursor, { cursor: c });
      cursor = r.cursor;
      if (r.accept) seen.push(c);
    }
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('Sent, Delivered, Seen', () => {
  const mine = msg(3, 'person');
  it('is Sent until the Page’s bot has received it', () => {
    expect(statusOf(mine, 0, 0)).toBe('Sent');
    // Marks covering an earlier message only.
    expect(statusOf(mine, 2, 2)).toBe('Sent');
  });
  it('is Delivered when the server says the bot received up to its seq, not because the Page answered', () => {
    expect(statusOf(mine, 0, 3)).toBe('Delivered');
    expect(statusOf(mine, 2, 5)).toBe('Delivered');
    // The inference is gone: a later Page message alone is not a delivery.
    expect(statusOf(mine, 0, 0)).toBe('Sent');
  });
  it('is Seen when the Page read up to its seq; Seen implies Delivered', () => {
    expect(statusOf(mine, 3, 3)).toBe('Seen');
    expect(statusOf(mine, 4, 0)).toBe('Seen');
  });
  it('takes the marks from events by the Page only', () => {
    const ref = { thread_id: 't', page_id: 'p', cursor: 1, watermark: 5 };
    expect(marksFromEvent({ ...ref, type: 'delivery', by: 'page', seq: 4 })).toEqual({ delivered: 4 });
    expect(marksFromEvent({ ...ref, type: 'read', by: 'page', seq: 6 })).toEqual({ seen: 6 });
    expect(marksFromEvent({ ...ref, type: 'delivery', by: 'person', seq: 9 })).toEqual({});
    expect(marksFromEvent({ ...ref, type: 'read', by: 'person', seq: 9 })).toEqual({});
    expect(marksFromEvent({ ...ref, type: 'typing', seq: 9 })).toEqual({});
  });
  it('only raises the marks, and keeps the same object when nothing rises', () => {
    const s = { seenByPageSeq: 3, deliveredToPageSeq: 5, other: 'x' };
    expect(raiseMarks(s, 2, 4)).toBe(s);
    expect(raiseMarks(s, undefined, undefined)).toBe(s);
    expect(raiseMarks(s, 4, undefined)).toEqual({ seenByPageSeq: 4, deliveredToPageSeq: 5, other: 'x' });
    expect(raiseMarks(s, 1, 7)).toEqual({ seenByPageSeq: 3, deliveredToPageSeq: 7, other: 'x' });
  });
  it('shows under the latest message of the person', () => {
    expect(lastOwnMessage([msg(1, 'person'), msg(2, 'page'), msg(3, 'person'), msg(4, 'page')])?.seq).toBe(3);
    expect(lastOwnMessage([msg(1, 'page')])).toBeUndefined();
  });
});

describe('quick reply chips', () => {
  const qrs = [
    { content_type: 'text' as const, title: 'Red', payload: 'R' },
    { content_type: 'user_email' as const },
    { content_type: 'text' as const, title: 'Blue', payload: 'B' },
  ];
  it('are the text quick replies of the latest message when it is the Page’s', () => {
    expect(quickReplyChips([msg(1, 'person'), msg(2, 'page', { quick_replies: qrs })], 0).map((q) => q.title)).toEqual([
      'Red',
      'Blue',
    ]);
  });
  it('go with the next message, from either side, and while a send is pending', () => {
    const offered = msg(2, 'page', { quick_replies: qrs });
    expect(quickReplyChips([offered, msg(3, 'person')], 0)).toEqual([]);
    expect(quickReplyChips([offered, msg(3, 'page')], 0)).toEqual([]);
    expect(quickReplyChips([offered], 1)).toEqual([]);
    expect(quickReplyChips([], 0)).toEqual([]);
  });
});

describe('the thread list preview', () => {
  it('names photos and attachments, prefixes the person’s own', () => {
    expect(summary(null)).toBe('New conversation');
    expect(summary(msg(1, 'page'))).toBe('t1');
    expect(summary(msg(1, 'person'))).toBe('You: t1');
    expect(summary(msg(1, 'page', { persona: { id: '9', name: 'Ada' } }))).toBe('Ada: t1');
    expect(summary(msg(1, 'person', { text: undefined, attachments: [photo] }))).toBe('You: Sent a photo');
    expect(summary(msg(1, 'person', { text: undefined, attachments: [photo, photo] }))).toBe('You: Sent 2 photos');
    expect(summary(msg(1, 'page', { text: undefined, attachment: { type: 'file', payload: { url: 'x' } } }))).toBe(
      'Sent an attachment',
    );
    expect(
      summary(
        msg(1, 'page', {
          text: undefined,
          attachment: { type: 'template', payload: { template_type: 'button', text: 'x', buttons: [] } },
        }),
      ),
    ).toBe('Sent a message');
    expect(
      summary(
        msg(1, 'person', { kind: 'postback', text: undefined, postback: { title: 'Get Started', payload: 'GS' } }),
      ),
    ).toBe('You: Get Started');
  });
});

describe('sending', () => {
  const base: Pending = { client_message_id: 'c-1', thread_id: '9', timestamp: 1 };
  it('sends attachments by media id, with the text only when there is one', () => {
    expect(sendRequest({ ...base, attachments: [photo] })).toEqual({
      path: '/threads/9/messages',
      body: { client_message_id: 'c-1', attachments: [{ media_id: '42' }] },
    });
    expect(sendRequest({ ...base, text: 'look', attachments: [photo] }).body).toEqual({
      client_message_id: 'c-1',
      text: 'look',
      attachments: [{ media_id: '42' }],
    });
    expect(sendRequest({ ...base, text: '  ', attachments: [photo] }).body).not.toHaveProperty('text');
    expect(sendRequest({ ...base, text: 'Red', quick_reply: { payload: 'QR' } }).body).toEqual({
      client_message_id: 'c-1',
      text: 'Red',
      quick_reply: { payload: 'QR' },
    });
    expect(sendRequest({ ...base, text: 'That one', reply_to: { mid: 'm_9' } }).body).toEqual({
      client_message_id: base.client_message_id,
      text: 'That one',
      reply_to: { mid: 'm_9' },
    });
    expect(sentView({ ...base, text: 'That one', reply_to: { mid: 'm_9' } }, { mid: 'm_10', seq: 10, timestamp: 1 }).reply_to).toEqual({ mid: 'm_9' });
    expect(sendRequest({ ...base, postback: { title: 'Buy', payload: 'BUY' } })).toEqual({
      path: '/threads/9/postbacks',
      body: { title: 'Buy', payload: 'BUY', client_message_id: 'c-1' },
    });
  });

  it('draws the sent message with the uploaded attachments at once', () => {
    const m = sentView({ ...base, text: 'look', attachments: [photo] }, { mid: 'm_x', seq: 7, timestamp: 5 });
    expect(m).toEqual({
      mid: 'm_x',
      seq: 7,
      timestamp: 5,
      sender: 'person',
      kind: 'message',
      client_message_id: 'c-1',
      text: 'look',
      attachments: [{ type: 'image', payload: photo.payload }],
    });
    expect(
      sentView({ ...base, postback: { title: 'Buy', payload: 'B' } }, { mid: 'm_y', seq: 8, timestamp: 6 }).kind,
    ).toBe('postback');
  });

  it('retries network errors, 5xx and 429, not other 4xx', () => {
    expect(retryable(undefined)).toBe(true);
    expect(retryable(503)).toBe(true);
    expect(retryable(429)).toBe(true);
    expect(retryable(400)).toBe(false);
    expect(retryable(404)).toBe(false);
  });
});

describe('a reply’s quote', () => {
  it('quotes the replied-to message: who wrote it and a few words of it', () => {
    expect(replyQuote(msg(1, 'person', { text: 'Hi, shirts?' }), 'Acme')).toEqual({
      found: true,
      who: 'you',
      text: 'Hi, shirts?',
      lead: 'Replying to',
      label: 'Replying to you: Hi, shirts?',
    });
    // The person's own replies: to themselves, or to the Page.
    expect(replyQuote(msg(1, 'person', { text: 'Blue ones' }), 'Acme', 'person').label).toBe('You replied to yourself: Blue ones');
    expect(replyQuote(msg(2, 'page', { text: 'Which size?' }), 'Acme', 'person')).toMatchObject({ who: 'Acme', lead: 'You replied to' });
    expect(replyQuote(undefined, 'Acme', 'person').label).toBe('You replied to an earlier message');
    expect(replyQuote(msg(2, 'page', { text: 'x'.repeat(200) }), 'Acme').text).toBe(`${'x'.repeat(79)}…`);
    expect(replyQuote(msg(2, 'page', { text: 'Sale!' }), 'Acme').label).toBe('Replying to Acme: Sale!');
    // A message sent as a persona is quoted as theirs.
    expect(replyQuote(msg(3, 'page', { text: 'Ada here', persona: { id: '1', name: 'Ada' } }), 'Acme').label).toBe(
      'Replying to Ada: Ada here',
    );
  });
  it('says what a message without text carries', () => {
    expect(briefContent(msg(1, 'person', { text: undefined, attachments: [photo] }))).toBe('a photo');
    expect(briefContent(msg(1, 'page', { text: undefined, attachment: { type: 'file', payload: { url: 'u' } } }))).toBe(
      'an attachment',
    );
    expect(
      briefContent(msg(1, 'page', { text: undefined, attachment: { type: 'image', payload: { url: 'u' } } })),
    ).toBe('a photo');
    expect(
      briefContent(
        msg(1, 'page', {
          text: undefined,
          attachment: {
            type: 'template',
            payload: { template_type: 'button', text: 'q', buttons: [] },
          } as MessageView['attachment'],
        }),
      ),
    ).toBe('a message');
    expect(
      briefContent(msg(1, 'person', { kind: 'postback', text: undefined, postback: { title: 'Buy', payload: 'B' } })),
    ).toBe('Buy');
  });
  it('is neutral when the replied-to message is not loaded', () => {
    expect(replyQuote(undefined, 'Acme')).toEqual({
      found: false,
      text: 'Replying to an earlier message',
      label: 'Replying to an earlier message',
    });
  });
});

describe('thread list pages', () => {
  const th = (id: string, last = '') => ({ id, last_seq: 0, page: { id: `p${id}`, name: id }, summary: last }) as unknown as ThreadSummary;
  const ids = (list: ThreadSummary[]) => list.map((t) => t.id);

  it('puts a fresh first page on top of the older pages loaded before, each thread once', () => {
    const loaded = [th('a'), th('b'), th('c'), th('d')];
    // d moved up with a new message; b fell off the first page and stays below.
    const fresh = [th('d', 'new'), th('a')];
    const merged = withFirstPage(fresh, loaded);
    expect(ids(merged)).toEqual(['d', 'a', 'b', 'c']);
    expect(merged[0]).toBe(fresh[0]);
    expect(withFirstPage([th('x')], [])).toEqual([th('x')]);
  });

  it('appends an older page below what is shown, skipping threads already there', () => {
    expect(ids(withOlderPage([th('a'), th('b')], [th('b'), th('c')]))).toEqual(['a', 'b', 'c']);
  });
});
