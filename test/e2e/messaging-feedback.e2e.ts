import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, botConversation, openThread, pageSays, personSays, settled } from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

const DAY = 86_400_000;
// Meta's customer feedback example: one CSAT question with a free-form follow-up.
const SURVEY = {
  template_type: 'customer_feedback',
  title: 'Rate your experience with Original Coast Clothing.',
  subtitle: 'Let Original Coast Clothing know how they are doing by answering two questions',
  button_title: 'Rate Experience',
  feedback_screens: [
    {
      questions: [
        {
          id: 'hauydmns8',
          type: 'csat',
          title: 'How would you rate your experience with Original Coast Clothing?',
          score_label: 'neg_pos',
          score_option: 'five_stars',
          follow_up: { type: 'free_form', placeholder: 'Give additional feedback' },
        },
      ],
    },
  ],
  business_privacy: { url: 'https://www.example.com' },
  expires_in_days: 3,
};
const survey = (over: object = {}) => ({ attachment: { type: 'template', payload: { ...SURVEY, ...over } } });
const nps = (id = 'recommend') => survey({ feedback_screens: [{ questions: [{ id, type: 'nps' }] }], expires_in_days: undefined });

// Messenger's customer feedback template end to end, over real Postgres and Redis: the bot sends a survey, the person
// answers it (once, in time, on their own thread), and the bot gets the messaging_feedback webhook.
describe('messaging: customer feedback', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const bots: BotReceiver[] = [];
  const sockets: PersonSocket[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500', SCRIPT_POLL_INTERVAL_MS: '100' } });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await Promise.all(bots.map((b) => b.close()));
    await t?.close();
  });

  // A Page with a bot subscribed to the core fields and messaging_feedback, and a person who has written to it (the window is open).
  async function setup() {
    const c = await botConversation(api, t.db, { extraFields: ['messaging_feedback'], appName: 'Survey bot', firstText: 'Thanks for the help' });
    bots.push(c.bot);
    return c;
  }
  const answer = (threadId: string, mid: string, answers: unknown, token?: string) =>
    api.post(`/threads/${threadId}/messages/${mid}/feedback`, { answers }, { token });
  const feedbacks = (bot: BotReceiver) => receivedEntries(bot).filter(([, m]) => m.messaging_feedback);
  const socket = async (token: string) => {
    const s = await connectPerson(t.url, token);
    sockets.push(s);
    return s;
  };

  it('shows the person the survey, takes their answer once, and the bot gets messaging_feedback, signed, once', async () => {
    const c = await setup();
    const device = await socket(c.person.token);
    const otherDevice = await socket(c.person.token);
    const sent = await pageSays(api, c.app.pageToken, c.psid, survey());
    expect(sent.status).toBe(200);
    const mid = sent.body.message_id as string;
    const [, echo] = await waitForEntry('the echo', c.bot, (_, m) => m.message?.is_echo && m.message.mid === mid);
    expect(echo.message.attachments).toEqual([{ type: 'template', payload: SURVEY }]);

    const live = await device.waitFor('the survey', (e) => e.type === 'message' && e.message.mid === mid);
    const [{ timestamp }] = await t.db.query('SELECT timestamp::bigint AS timestamp FROM messages WHERE mid = $1', [mid]);
    const expiresAt = Number(timestamp) + 3 * DAY;
    expect(live.message).toMatchObject({ sender: 'page', attachment: { type: 'template', payload: SURVEY }, feedback: { expires_at: expiresAt } });
    expect(live.message.feedback).not.toHaveProperty('submitted_at');

    const given = [{ question_id: 'hauydmns8', score: 4, follow_up: 'Quick and friendly' }];
    const first = await answer(c.thread.id, mid, given, c.person.token);
    expect(first.status).toBe(200);
    const feedback_screens = [
      { screen_id: 0, questions: { hauydmns8: { type: 'csat', payload: '4', follow_up: { type: 'free_form', payload: 'Quick and friendly' } } } },
    ];
    expect(first.body).toMatchObject({ mid, feedback: { expires_at: expiresAt, submitted_at: expect.any(Number), feedback_screens } });

    const [key, item] = await waitForEntry('the feedback webhook', c.bot, (_, m) => m.messaging_feedback);
    expect(key).toBe('messaging');
    expect(item).toEqual({ sender: { id: c.psid }, recipient: { id: c.page.id }, timestamp: expect.any(Number), messaging_feedback: { feedback_screens } });
    const [row] = await t.db.query(`SELECT field FROM webhook_events WHERE page_id = $1 AND messaging ? 'messaging_feedback'`, [c.page.id]);
    expect(row.field).toBe('messaging_feedback');
    const onOther = await otherDevice.waitFor('the answer on another device', (e) => e.type === 'feedback');
    expect(onOther).toMatchObject({ mid, thread_id: c.thread.id, feedback: first.body.feedback, cursor: expect.any(Number) });

    // The same answer again (a lost response, three taps at once): the same, and nobody hears more.
    const again = await Promise.all([0, 1, 2].map(() => answer(c.thread.id, mid, given, c.person.token)));
    for (const r of again) expect([r.status, r.body]).toEqual([200, first.body]);
    // Another answer after the first is refused.
    const changed = await answer(c.thread.id, mid, [{ question_id: 'hauydmns8', score: 1 }], c.person.token);
    expect([changed.status, changed.body.code]).toEqual([409, 'THREAD.FEEDBACK_ALREADY_GIVEN']);
    await settled(api, c);
    expect(feedbacks(c.bot)).toHaveLength(1);
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'feedback'`, [c.person.id]);
    expect(n).toBe(1);

    // Every read carries the answer: history, and the Page Inbox.
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === mid).feedback).toEqual(first.body.feedback);
    const inbox = await api.get(`/pages/${c.page.id}/inbox/${c.thread.id}/messages`, { token: c.owner.token });
    expect(inbox.body.data.find((m: any) => m.mid === mid).feedback).toEqual(first.body.feedback);
  });

  it('answers two surveys at once, once each, whatever the order of the taps', async () => {
    const c = await setup();
    const mids = [(await pageSays(api, c.app.pageToken, c.psid, nps('q1'))).body.message_id, (await pageSays(api, c.app.pageToken, c.psid, nps('q2'))).body.message_id];
    const taps = await Promise.all(
      [...mids, ...mids].map((mid, i) => answer(c.thread.id, mid, [{ question_id: i % 2 ? 'q2' : 'q1', score: 10 - (i % 2) }], c.person.token)),
    );
    expect(taps.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await waitFor('two feedback webhooks', () => feedbacks(c.bot).length >= 2);
    await settled(api, c);
    expect(feedbacks(c.bot).map(([, m]) => m.messaging_feedback.feedback_screens[0].questions)).toEqual(
      expect.arrayContaining([{ q1: { type: 'nps', payload: '10' } }, { q2: { type: 'nps', payload: '9' } }]),
    );
    expect(feedbacks(c.bot)).toHaveLength(2);
  });

  // A client that writes `follow_up: null` for "nothing typed" is answered as if it left the field out (it once
  // reached the template check as null: 500).
  it('takes a null follow_up as none, whether or not the question asks for text', async () => {
    const c = await setup();
    const withText = (await pageSays(api, c.app.pageToken, c.psid, survey())).body.message_id as string;
    const without = (await pageSays(api, c.app.pageToken, c.psid, nps('q1'))).body.message_id as string;
    const a = await answer(c.thread.id, withText, [{ question_id: 'hauydmns8', score: 3, follow_up: null }], c.person.token);
    expect([a.status, a.body.feedback?.feedback_screens]).toEqual([200, [{ screen_id: 0, questions: { hauydmns8: { type: 'csat', payload: '3' } } }]]);
    const b = await answer(c.thread.id, without, [{ question_id: 'q1', score: 7, follow_up: null }], c.person.token);
    expect([b.status, b.body.feedback?.feedback_screens]).toEqual([200, [{ screen_id: 0, questions: { q1: { type: 'nps', payload: '7' } } }]]);
    // Any other non-text is still refused.
    const c3 = await answer(c.thread.id, withText, [{ question_id: 'hauydmns8', score: 3, follow_up: 5 }], c.person.token);
    expect([c3.status, c3.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
  });

  it("refuses bad answers, late answers, other people's threads and what is no survey, writing nothing", async () => {
    const c = await setup();
    const d = await setup();
    const mine = (await pageSays(api, c.app.pageToken, c.psid, survey())).body.message_id as string;
    const late = (await pageSays(api, c.app.pageToken, c.psid, nps('late'))).body.message_id as string;
    const text = (await pageSays(api, c.app.pageToken, c.psid, { text: 'Hello' })).body.message_id as string;
    const own = await personSays(api, c.person, c.thread.id, 'Thanks');
    const theirs = (await pageSays(api, d.app.pageToken, d.psid, survey())).body.message_id as string;
    // A day and a second old: past the default one day.
    await t.db.query('UPDATE messages SET timestamp = timestamp - $2::bigint WHERE mid = $1', [late, DAY + 1000]);
    const written = async () =>
      (
        await t.db.query(
          `SELECT (SELECT count(*)::int FROM user_events WHERE type = 'feedback') AS events,
                  (SELECT count(*)::int FROM webhook_events WHERE messaging ? 'messaging_feedback') AS webhooks,
                  (SELECT count(feedback)::int FROM messages) AS answered`,
        )
      )[0];
    const before = await written();
    const ok = [{ question_id: 'hauydmns8', score: 5 }];
    const cases: [string, Promise<any>, number, string?][] = [
      ["another person's thread", answer(d.thread.id, theirs, ok, c.person.token), 404, 'THREAD.NOT_FOUND'],
      ['a message of another thread', answer(c.thread.id, theirs, ok, c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ['an unknown mid', answer(c.thread.id, 'm_nothinghere', ok, c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
      ["the Page's text", answer(c.thread.id, text, ok, c.person.token), 400, 'THREAD.NOT_A_FEEDBACK_REQUEST'],
      ["the person's own message", answer(c.thread.id, own.mid, ok, c.person.token), 400, 'THREAD.NOT_A_FEEDBACK_REQUEST'],
      ['a score off the scale', answer(c.thread.id, mine, [{ question_id: 'hauydmns8', score: 6 }], c.person.token), 400, 'THREAD.FEEDBACK_INVALID'],
      ['another question', answer(c.thread.id, mine, [{ question_id: 'other', score: 3 }], c.person.token), 400, 'THREAD.FEEDBACK_INVALID'],
      ['the question twice', answer(c.thread.id, mine, [...ok, ...ok], c.person.token), 400, 'THREAD.FEEDBACK_INVALID'],
      ['follow-up text where none is asked', answer(c.thread.id, late, [{ question_id: 'late', score: 3, follow_up: 'x' }], c.person.token), 400, 'THREAD.FEEDBACK_INVALID'],
      ['follow-up text of 401', answer(c.thread.id, mine, [{ ...ok[0], follow_up: 'x'.repeat(401) }], c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['a score as text', answer(c.thread.id, mine, [{ question_id: 'hauydmns8', score: 'five' }], c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['no answers', answer(c.thread.id, mine, [], c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['answers not a list', answer(c.thread.id, mine, { hauydmns8: 5 }, c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
      ['too late', answer(c.thread.id, late, [{ question_id: 'late', score: 9 }], c.person.token), 409, 'THREAD.FEEDBACK_EXPIRED'],
      ['no token', answer(c.thread.id, mine, ok), 401],
      ["the Page's token", answer(c.thread.id, mine, ok, c.app.pageToken), 403],
    ];
    for (const [what, call, status, code] of cases) {
      const res = await call;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.body).toMatchObject({ statusCode: status, code: code ?? expect.any(String), message: expect.any(String) });
    }
    expect(await written()).toEqual(before);
    expect((await answer(c.thread.id, mine, ok, c.person.token)).status).toBe(200);
    expect(await written()).toEqual({ events: before.events + 1, webhooks: before.webhooks + 1, answered: before.answered + 1 });
    await settled(api, c);
    await settled(api, d);
    expect(feedbacks(c.bot).map(([, m]) => m.messaging_feedback.feedback_screens[0].questions)).toEqual([{ hauydmns8: { type: 'csat', payload: '5' } }]);
    expect(feedbacks(d.bot)).toEqual([]);
  });

  it("refuses a survey the Send API can't take with Graph's code 100, and sends one with the CUSTOMER_FEEDBACK tag after the 24 h window", async () => {
    const c = await setup();
    const P = 'message[attachment][payload]';
    const refused: [object, string][] = [
      [survey({ business_privacy: undefined }), `param ${P}[business_privacy] is required`],
      [survey({ expires_in_days: 8 }), `param ${P}[expires_in_days] must be a whole number of days from 1 to 7`],
      [survey({ feedback_screens: [{ questions: [{ id: 'q', type: 'nps', score_option: 'five_stars' }] }] }), `param ${P}[feedback_screens][0][questions][0][score_option] must be one of [zero_to_ten]`],
    ];
    const stored = async () => (await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]))[0].n;
    const before = await stored();
    for (const [message, text] of refused) {
      const res = await pageSays(api, c.app.pageToken, c.psid, message);
      expect([res.status, res.body.error?.code, res.body.error?.message]).toEqual([400, 100, `(#100) ${text}`]);
    }
    expect(await stored()).toBe(before);

    // Two days after the person's last message: RESPONSE is refused, the CUSTOMER_FEEDBACK tag goes through.
    await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now() - 2 * DAY]);
    const response = await pageSays(api, c.app.pageToken, c.psid, survey());
    expect([response.status, response.body.error?.code]).toEqual([400, 10]);
    const tagged = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.app.pageToken)}`, {
      recipient: { id: c.psid },
      messaging_type: 'MESSAGE_TAG',
      tag: 'CUSTOMER_FEEDBACK',
      message: survey(),
    });
    expect(tagged.status).toBe(200);
    expect((await answer(c.thread.id, tagged.body.message_id, [{ question_id: 'hauydmns8', score: 2 }], c.person.token)).status).toBe(200);
  });

  it("runs a hosted script's onFeedback when the person answers the survey its onMessage sent", async () => {
    const owner = await signupPerson(api, 'Script Owner');
    const page = await createPage(api, owner, 'Scripted Shop');
    const source = `export default {
      async onMessage(event, ctx) {
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { attachment: { type: 'template',
          payload: { template_type: 'customer_feedback', title: 'How did we do?', button_title: 'Rate us',
            feedback_screens: [{ questions: [{ id: 'effort', type: 'ces' }] }], business_privacy: { url: 'https://shop.example/privacy' } } } } });
      },
      async onFeedback(event, ctx) {
        const q = event.messaging_feedback.feedback_screens[0].questions.effort;
        await ctx.send({ recipient: { id: event.sender.id }, messaging_type: 'RESPONSE', message: { text: 'Thanks for the ' + q.payload + ' (' + q.type + ')' } });
      },
    };`;
    const uploaded = await api.post(`/pages/${page.id}/scripts`, { source, subscribed_fields: ['messages', 'messaging_feedback'] }, { token: owner.token });
    expect(uploaded.status).toBe(201);
    expect((await api.post(`/pages/${page.id}/scripts/${uploaded.body.version}/activate`, {}, { token: owner.token })).status).toBe(200);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    const device = await socket(person.token);
    await personSays(api, person, thread.id, 'hi');
    const sent = await device.waitFor('the survey', (e) => e.type === 'message' && e.message.attachment?.payload?.template_type === 'customer_feedback', 20_000);
    expect((await answer(thread.id, sent.message.mid, [{ question_id: 'effort', score: 6 }], person.token)).status).toBe(200);
    await device.waitFor('the script’s answer', (e) => e.type === 'message' && e.message.text === 'Thanks for the 6 (ces)', 20_000);
  });

  describe('response feedback (thumbs on a bot’s messages)', () => {
    // A Page with two bots subscribed to response_feedback and one that is not.
    async function thumbsSetup() {
      const c = await setup();
      const fields = [...ALL_FIELDS.split(','), 'response_feedback'];
      const other = await subscribedApp(api, c.owner, c.page.id, 'Other bot', fields);
      const plain = await subscribedApp(api, c.owner, c.page.id, 'Plain bot', ALL_FIELDS.split(','));
      bots.push(other.bot, plain.bot);
      // The first bot subscribes to response_feedback too (the Page's admins, Graph's subscribed_apps).
      const sub = await api.post(`/v25.0/${c.page.id}/subscribed_apps`, { access_token: c.app.pageToken, subscribed_fields: fields.join(',') });
      expect(sub.status).toBe(200);
      const appSub = await api.post(`/v25.0/${c.app.id}/subscriptions`, {
        access_token: c.app.token, object: 'page', callback_url: c.bot.url, verify_token: 'verify-me', fields: fields.join(','),
      });
      expect(appSub.status).toBe(200);
      return { ...c, other, plain };
    }
    const thumbs = (threadId: string, mid: string, feedback: unknown, token?: string) =>
      api.put(`/threads/${threadId}/messages/${mid}/response-feedback`, { feedback }, { token });
    const thumbItems = (bot: BotReceiver) => receivedEntries(bot).filter(([, m]) => m.response_feedback).map(([, m]) => m);

    it('takes a thumbs up, then a change of mind, each told once to the app that sent the message', async () => {
      const c = await thumbsSetup();
      const device = await socket(c.person.token);
      const sent = await pageSays(api, c.app.pageToken, c.psid, { text: 'Your order ships tomorrow' });
      const mid = sent.body.message_id as string;
      const live = await device.waitFor('the message', (e) => e.type === 'message' && e.message.mid === mid);
      // Offered without saying which app sent it.
      expect(live.message.thumbs).toBe(true);
      expect(live.message).not.toHaveProperty('app_id');

      const up = await thumbs(c.thread.id, mid, 'good', c.person.token);
      expect([up.status, up.body]).toEqual([200, { mid, feedback: 'good' }]);
      const item = (await waitForEntry('the thumbs up', c.bot, (_, m) => m.response_feedback))[1];
      expect(item).toEqual({ sender: { id: c.psid }, recipient: { id: c.page.id }, timestamp: expect.any(Number), response_feedback: { feedback: 'Good response', mid } });
      const event = await device.waitFor('the thumbs event', (e) => e.type === 'thumbs');
      expect(event).toMatchObject({ mid, feedback: 'good', thread_id: c.thread.id });
      // The same thumb again, three times at once: nothing more. Then down: told again.
      for (const r of await Promise.all([0, 1, 2].map(() => thumbs(c.thread.id, mid, 'good', c.person.token)))) expect(r.status).toBe(200);
      expect((await thumbs(c.thread.id, mid, 'bad', c.person.token)).body).toEqual({ mid, feedback: 'bad' });
      await waitFor('the thumbs down', () => thumbItems(c.bot).length >= 2);
      await settled(api, c);
      expect(thumbItems(c.bot).map((m) => m.response_feedback.feedback)).toEqual(['Good response', 'Bad response']);
      // Only the app that sent the message hears of it, though the other subscribes too.
      await waitForEntry('the other bot’s copy of the marker', c.other.bot, (_, m) => m.message?.text?.startsWith('marker'));
      expect(thumbItems(c.other.bot)).toEqual([]);
      const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
      expect(history.body.data.find((m: any) => m.mid === mid)).toMatchObject({ thumbs: true, response_feedback: 'bad' });
      // A bot that did not ask, and the person's own messages, take none.
      const plain = (await pageSays(api, c.plain.pageToken, c.psid, { text: 'no thumbs here' })).body.message_id;
      const again = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
      expect(again.body.data.filter((m: any) => m.thumbs).map((m: any) => m.mid)).toEqual([mid]);
      expect(again.body.data.some((m: any) => m.mid === plain)).toBe(true);
    });

    it("refuses what takes no thumbs: the person's own message, the Page's people's, an app that did not ask; and bad input", async () => {
      const c = await thumbsSetup();
      const own = await personSays(api, c.person, c.thread.id, 'Where is my order?');
      const human = await api.post(`/pages/${c.page.id}/inbox/${c.thread.id}/messages`, { text: 'Sam here' }, { token: c.owner.token });
      expect(human.status).toBe(201);
      const plain = (await pageSays(api, c.plain.pageToken, c.psid, { text: 'from a bot that did not ask' })).body.message_id as string;
      const asked = (await pageSays(api, c.app.pageToken, c.psid, { text: 'from a bot that asked' })).body.message_id as string;
      const written = async () =>
        (await t.db.query(`SELECT (SELECT count(*)::int FROM webhook_events WHERE field = 'response_feedback') AS webhooks, (SELECT count(response_feedback)::int FROM messages) AS given`))[0];
      const before = await written();
      const cases: [string, Promise<any>, number, string?][] = [
        ["the person's own message", thumbs(c.thread.id, own.mid, 'good', c.person.token), 400, 'THREAD.RESPONSE_FEEDBACK_NOT_OFFERED'],
        ["the Page's people's message", thumbs(c.thread.id, human.body.mid, 'good', c.person.token), 400, 'THREAD.RESPONSE_FEEDBACK_NOT_OFFERED'],
        ['an app that did not ask', thumbs(c.thread.id, plain, 'bad', c.person.token), 400, 'THREAD.RESPONSE_FEEDBACK_NOT_OFFERED'],
        ['a thumb that is neither', thumbs(c.thread.id, asked, 'meh', c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
        ["Meta's words instead", thumbs(c.thread.id, asked, 'Good response', c.person.token), 400, 'REQUEST.VALIDATION_FAILED'],
        ['an unknown mid', thumbs(c.thread.id, 'm_nothinghere', 'good', c.person.token), 404, 'THREAD.MESSAGE_NOT_FOUND'],
        ['no token', thumbs(c.thread.id, asked, 'good'), 401],
      ];
      for (const [what, call, status, code] of cases) {
        const res = await call;
        expect({ what, status: res.status }).toEqual({ what, status });
        expect(res.body).toMatchObject({ statusCode: status, code: code ?? expect.any(String) });
      }
      expect(await written()).toEqual(before);
      expect((await thumbs(c.thread.id, asked, 'good', c.person.token)).status).toBe(200);
      expect(await written()).toEqual({ webhooks: before.webhooks + 1, given: before.given + 1 });
    });
  });
});
