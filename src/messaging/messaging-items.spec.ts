import { couponRevealItem, echoItem, feedbackItem, newMid, newPsid, personMessageItem, responseFeedbackItem, toMessageView } from './messaging-items';

const row = {
  mid: 'm_1',
  seq: '3',
  sender: 'page' as const,
  app_id: '123456789012345',
  kind: 'message' as const,
  timestamp: '1700000000000',
  content: { text: 'hi', metadata: 'secret-for-bots' },
  client_message_id: null,
};

describe('messaging items', () => {
  it('makes PSIDs of 16 digits that a JS number holds exactly, and opaque mids', () => {
    for (let i = 0; i < 1000; i++) {
      const p = newPsid();
      expect(p).toMatch(/^[1-8]\d{15}$/);
      expect(String(Number(p))).toBe(p);
    }
    expect(newMid()).toMatch(/^m_[A-Za-z0-9_-]{32}$/);
  });

  it('never repeats a mid across refills of its random pool', () => {
    const mids = Array.from({ length: 1000 }, () => newMid());
    for (const m of mids) expect(m).toMatch(/^m_[A-Za-z0-9_-]{32}$/);
    expect(new Set(mids).size).toBe(mids.length);
  });

  it('echoes a page send in Messenger’s shape, app_id as a number, metadata included', () => {
    expect(echoItem({ psid: '1111222233334444', pageId: '999' }, row)).toEqual({
      sender: { id: '999' },
      recipient: { id: '1111222233334444' },
      timestamp: 1700000000000,
      message: { is_echo: true, app_id: 123456789012345, metadata: 'secret-for-bots', mid: 'm_1', text: 'hi' },
    });
  });

  it('leaves app_id out of the echo of a send no app made, instead of app 0', () => {
    expect(echoItem({ psid: '1', pageId: '2' }, { ...row, app_id: null }).message).toEqual({ is_echo: true, metadata: 'secret-for-bots', mid: 'm_1', text: 'hi' });
  });

  it('never shows the person a bot’s metadata', () => {
    expect(toMessageView(row)).toEqual({ mid: 'm_1', seq: 3, sender: 'page', timestamp: 1700000000000, kind: 'message', text: 'hi' });
  });

  it('renders a postback with its mid, title and payload', () => {
    const pb = { ...row, sender: 'person' as const, app_id: null, kind: 'postback' as const, content: { postback: { title: 'T', payload: 'P' } } };
    expect(personMessageItem({ psid: '1', pageId: '2' }, pb)).toEqual({
      sender: { id: '1' },
      recipient: { id: '2' },
      timestamp: 1700000000000,
      postback: { mid: 'm_1', title: 'T', payload: 'P' },
    });
  });

  it('hands stored attachments to the presenter: the bot, the person and the echo each get their own URLs', () => {
    const stored = { type: 'image', payload: { media_id: '42', width: 10, height: 5 } };
    const person = { ...row, sender: 'person' as const, app_id: null, content: { attachments: [stored] } };
    const sign = (who: string) => (a: unknown[]) => a.map((x: any) => ({ type: x.type, payload: { url: `${who}/${x.payload.media_id}` } }));
    expect(personMessageItem({ psid: '1', pageId: '2' }, person, sign('bot')).message).toEqual({
      mid: 'm_1',
      attachments: [{ type: 'image', payload: { url: 'bot/42' } }],
    });
    expect(toMessageView(person, sign('person')).attachments).toEqual([{ type: 'image', payload: { url: 'person/42' } }]);
    // Without a presenter nothing unsigned leaks out.
    expect(toMessageView(person).attachments).toBeUndefined();
    expect(personMessageItem({ psid: '1', pageId: '2' }, person).message).toEqual({ mid: 'm_1' });
    const page = { ...row, content: { attachment: stored } };
    expect(echoItem({ psid: '1', pageId: '2' }, page, sign('echo')).message).toMatchObject({ attachments: [{ type: 'image', payload: { url: 'echo/42' } }] });
    expect(toMessageView(page, sign('person')).attachment).toEqual({ type: 'image', payload: { url: 'person/42' } });
  });

  it("tells the bots what a person's message replies to, and whether it was their own", () => {
    const person = { ...row, sender: 'person' as const, app_id: null };
    const toPage = { ...person, content: { text: 'that one', reply_to: { mid: 'm_0' } } };
    const toSelf = { ...person, content: { text: 'I meant', reply_to: { mid: 'm_0', is_self_reply: true } } };
    expect(personMessageItem({ psid: '1', pageId: '2' }, toPage).message).toEqual({ mid: 'm_1', text: 'that one', reply_to: { mid: 'm_0' } });
    expect(personMessageItem({ psid: '1', pageId: '2' }, toSelf).message).toEqual({ mid: 'm_1', text: 'I meant', reply_to: { mid: 'm_0', is_self_reply: true } });
    // The person's devices get the quoted mid only.
    expect(toMessageView(toSelf).reply_to).toEqual({ mid: 'm_0' });
  });

  it('carries reply_to to the person and the echo, and notification_type to the person only', () => {
    const reply = { ...row, content: { text: 'yes', reply_to: { mid: 'm_0' }, notification_type: 'SILENT_PUSH' } };
    expect(toMessageView(reply)).toMatchObject({ text: 'yes', reply_to: { mid: 'm_0' }, notification_type: 'SILENT_PUSH' });
    const echo = echoItem({ psid: '1', pageId: '2' }, reply).message as Record<string, unknown>;
    expect(echo).toMatchObject({ mid: 'm_1', text: 'yes', reply_to: { mid: 'm_0' } });
    expect(echo).not.toHaveProperty('notification_type');
    expect(toMessageView(row)).not.toHaveProperty('reply_to');
  });

  it("re-signs a media template's stored media for each reader and leaves other elements alone", () => {
    const template = (elements: object[]) => ({ type: 'template', payload: { template_type: 'media', elements } });
    const page = {
      ...row,
      content: { attachment: template([{ media_type: 'video', url: 'https://old/signed', media_id: '7', buttons: [] }]) },
    };
    const sign = (who: string) => (a: unknown[]) => a.map((x: any) => ({ type: x.type, payload: { url: `${who}/${x.type}/${x.payload.media_id}` } }));
    expect(toMessageView(page, sign('person')).attachment).toEqual(template([{ media_type: 'video', url: 'person/video/7', buttons: [] }]));
    expect(echoItem({ psid: '1', pageId: '2' }, page, sign('echo')).message).toMatchObject({
      attachments: [template([{ media_type: 'video', url: 'echo/video/7', buttons: [] }])],
    });
    const plain = { ...row, content: { attachment: template([{ media_type: 'image', url: 'https://kept' }]) } };
    expect(toMessageView(plain, sign('person')).attachment).toEqual(template([{ media_type: 'image', url: 'https://kept' }]));
  });

  it("keeps a coupon's code from the person until they reveal it, never from the Page's people or the echo", () => {
    const payload = { template_type: 'coupon', title: '10% off', coupon_code: '10PERCENT', payload: 'SUMMER' };
    const coupon = { ...row, content: { attachment: { type: 'template', payload } } };
    const hidden = toMessageView(coupon);
    expect(hidden.attachment).toEqual({ type: 'template', payload: { template_type: 'coupon', title: '10% off', payload: 'SUMMER' } });
    expect(hidden.coupon).toEqual({ revealed: false });
    // The stored content is not changed by the person's view.
    expect(coupon.content.attachment.payload.coupon_code).toBe('10PERCENT');
    expect(toMessageView(coupon, undefined, { forPage: true })).toMatchObject({ attachment: { payload }, coupon: { revealed: false } });
    expect(echoItem({ psid: '1', pageId: '2' }, coupon).message).toMatchObject({ attachments: [{ type: 'template', payload }] });
    const revealed = toMessageView({ ...coupon, coupon_revealed_at: '1700000001000' });
    expect(revealed).toMatchObject({ attachment: { payload }, coupon: { revealed: true, revealed_at: 1700000001000 } });
    // A coupon that only links (no code) has nothing to hide or reveal.
    const link = { template_type: 'coupon', title: 'Sale', coupon_url: 'https://shop.example' };
    const linkOnly = toMessageView({ ...row, content: { attachment: { type: 'template', payload: link } } });
    expect(linkOnly.attachment).toEqual({ type: 'template', payload: link });
    expect(linkOnly).not.toHaveProperty('coupon');
  });

  it("tells the bots of a revealed code in the shape Meta's coupon page shows", () => {
    expect(couponRevealItem({ psid: '1', pageId: '2' }, { coupon_code: 'C', payload: 'P' }, 5)).toEqual({
      sender: { id: '1' },
      recipient: { id: '2' },
      timestamp: 5,
      template: { type: 'coupon', payload: 'P', coupon_code: 'C' },
    });
    expect(couponRevealItem({ psid: '1', pageId: '2' }, { coupon_code: 'C' }, 5).template).toEqual({ type: 'coupon', coupon_code: 'C' });
  });

  it('shows a feedback request open until expires_in_days after it was sent, then with the answer in Meta\'s key order', () => {
    const payload = { template_type: 'customer_feedback', title: 'Rate us', button_title: 'Rate', expires_in_days: 2, feedback_screens: [{ questions: [{ id: 'q', type: 'nps' }] }] };
    const request = { ...row, timestamp: '1700000000000', content: { attachment: { type: 'template', payload } } };
    expect(toMessageView(request).feedback).toEqual({ expires_at: 1700000000000 + 2 * 86_400_000 });
    // As jsonb gives it back: keys of equal length in byte order.
    const stored = { submitted_at: 1700000005000, feedback_screens: [{ questions: { q: { type: 'nps', payload: '9' } }, screen_id: 0 }] };
    const answered = toMessageView({ ...request, feedback: stored });
    expect(answered.feedback).toEqual({ expires_at: 1700000000000 + 2 * 86_400_000, submitted_at: 1700000005000, feedback_screens: [{ screen_id: 0, questions: { q: { type: 'nps', payload: '9' } } }] });
    expect(Object.keys(answered.feedback!.feedback_screens![0])).toEqual(['screen_id', 'questions']);
    // Other templates carry none.
    expect(toMessageView({ ...row, content: { attachment: { type: 'template', payload: { template_type: 'button', text: 'x', buttons: [] } } } })).not.toHaveProperty('feedback');
  });

  it('tells the bots of an answer as messaging_feedback', () => {
    const feedback_screens = [{ screen_id: 0, questions: { q: { type: 'csat', payload: '4', follow_up: { type: 'free_form' as const, payload: 'ok' } } } }];
    expect(feedbackItem({ psid: '1', pageId: '2' }, { feedback_screens }, 5)).toEqual({
      sender: { id: '1' },
      recipient: { id: '2' },
      timestamp: 5,
      messaging_feedback: { feedback_screens },
    });
  });

  it("tells the app of a thumbs up or down in Meta's words, and offers thumbs on the messages of the apps that ask, naming none", () => {
    expect(responseFeedbackItem({ psid: '1', pageId: '2' }, { mid: 'm_1', value: 'good' }, 5)).toEqual({
      sender: { id: '1' },
      recipient: { id: '2' },
      timestamp: 5,
      response_feedback: { feedback: 'Good response', mid: 'm_1' },
    });
    expect(responseFeedbackItem({ psid: '1', pageId: '2' }, { mid: 'm_1', value: 'bad' }, 5).response_feedback).toEqual({ feedback: 'Bad response', mid: 'm_1' });
    const bot = { ...row, sender: 'page' as const, app_id: '77', response_feedback: 'bad' as const };
    expect(toMessageView(bot, undefined, { thumbsFrom: new Set(['77']) })).toMatchObject({ thumbs: true, response_feedback: 'bad' });
    expect(toMessageView(bot, undefined, { thumbsFrom: new Set(['78']) })).not.toHaveProperty('thumbs');
    expect(toMessageView(bot, undefined, { thumbsFrom: new Set(['77']) })).not.toHaveProperty('app_id');
    // The person's own messages take none.
    expect(toMessageView({ ...row, sender: 'person', app_id: null }, undefined, { thumbsFrom: new Set(['77']) })).not.toHaveProperty('thumbs');
  });
});
