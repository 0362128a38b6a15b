import { BotReceiver, ReceivedRequest, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, clientId, offerGetStarted, openThread, personSays } from '../factories/messaging.factory';
import { pageWithApp, signupPerson } from '../factories/registry.factory';

const FIELDS = `${ALL_FIELDS},message_reactions,message_edits,messaging_referrals`;

// Reactions (both sides), a person's edits and ref links, as Messenger's message_reactions, message_edits and
// messaging_referrals webhooks, over real Postgres and Redis.
describe('messaging: reactions, edits and referrals', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500' } });
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  // Every messaging item the bot got for a page, in arrival order (signatures are checked by the receiver).
  function itemsFor(pageId: string, match: (m: any) => boolean = () => true): any[] {
    const out: any[] = [];
    for (const r of bot.received as ReceivedRequest[]) {
      expect(r.signatureValid).toBe(true);
      const body = JSON.parse(r.body.toString('utf8'));
      for (const entry of body.entry ?? []) if (entry.id === pageId) for (const m of entry.messaging) if (match(m)) out.push(m);
    }
    return out;
  }
  const waitItems = (what: string, pageId: string, n: number, match: (m: any) => boolean) =>
    waitFor(what, () => {
      const got = itemsFor(pageId, match);
      return got.length >= n ? got : undefined;
    });
  // Events of one thread reach the bot in order: once a later message is there, nothing earlier is still coming.
  async function settled(c: Awaited<ReturnType<typeof setup>>) {
    const marker = await personSays(api, c.person, c.thread.id, `marker ${clientId()}`);
    await waitItems('the marker', c.page.id, 1, (m) => m.message?.mid === marker.mid);
  }

  async function setup(opts: { getStarted?: boolean } = {}) {
    const ctx = await pageWithApp(api);
    bot.secrets.push(ctx.app.secret);
    const sub = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
      access_token: ctx.app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: 'verify-me',
      fields: FIELDS,
    });
    expect(sub.status).toBe(200);
    // The Page subscribes its app to the new fields too (the factory connects it with the core five).
    const pageSub = await api.post(`/v25.0/${ctx.page.id}/subscribed_apps`, { access_token: ctx.pageToken, subscribed_fields: FIELDS });
    expect(pageSub.status).toBe(200);
    if (opts.getStarted) await offerGetStarted(api, ctx.pageToken);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, ctx.page.id);
    const [row] = await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1 RETURNING psid', [thread.id, Date.now()]);
    return { ...ctx, person, thread, psid: row.psid as string };
  }
  const sendApi = (pageToken: string, body: unknown) => api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(pageToken)}`, body);

  it("sends the person's reactions to the bot as message_reactions, and the Page's to the person", async () => {
    const c = await setup();
    const mine = await personSays(api, c.person, c.thread.id, 'Do you ship to Finland?');
    const reply = await sendApi(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'We do!' } });
    expect(reply.status).toBe(200);
    const pageMid = reply.body.message_id as string;
    const otherDevice = await connectPerson(t.url, c.person.token);

    const react = (mid: string, reaction: string) => api.put(`/threads/${c.thread.id}/messages/${mid}/reaction`, { reaction }, { token: c.person.token });
    const unreact = (mid: string) => api.delete(`/threads/${c.thread.id}/messages/${mid}/reaction`, { token: c.person.token });

    expect((await react(pageMid, '❤️')).body).toEqual({ mid: pageMid, reaction: '❤️' });
    const [first] = await waitItems('the reaction', c.page.id, 1, (m) => m.reaction);
    expect(first).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      reaction: { reaction: 'love', emoji: '❤️', action: 'react', mid: pageMid },
    });
    const echoed = await otherDevice.waitFor('the reaction on another device', (e) => e.type === 'reaction');
    expect(echoed).toMatchObject({ by: 'person', mid: pageMid, emoji: '❤️', thread_id: c.thread.id, cursor: expect.any(Number) });

    // The same reaction again changes nothing and tells no one; a new one replaces it; removing names what it removes.
    expect((await react(pageMid, '❤️')).status).toBe(200);
    expect((await react(pageMid, '👍🏽')).body).toEqual({ mid: pageMid, reaction: '👍🏽' });
    expect((await unreact(pageMid)).body).toEqual({ mid: pageMid, reaction: null });
    expect((await unreact(pageMid)).body).toEqual({ mid: pageMid, reaction: null });
    await settled(c);
    expect(itemsFor(c.page.id, (m) => m.reaction).map((m) => m.reaction)).toEqual([
      { reaction: 'love', emoji: '❤️', action: 'react', mid: pageMid },
      { reaction: 'like', emoji: '👍🏽', action: 'react', mid: pageMid },
      { reaction: 'like', emoji: '👍🏽', action: 'unreact', mid: pageMid },
    ]);

    // The bot reacts to the person's message: the person sees it live and in history; unreact removes it.
    const botReact = await sendApi(c.pageToken, { recipient: { id: c.psid }, sender_action: 'react', payload: { message_id: mine.mid, reaction: '🎉' } });
    expect(botReact.status).toBe(200);
    expect(botReact.body).toEqual({ recipient_id: c.psid });
    await otherDevice.waitFor("the Page's reaction", (e) => e.type === 'reaction' && e.by === 'page' && e.emoji === '🎉' && e.mid === mine.mid);
    await react(mine.mid, '😆');
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === mine.mid).reactions).toEqual({ page: '🎉', person: '😆' });
    expect(history.body.data.find((m: any) => m.mid === pageMid).reactions).toBeUndefined();
    // Form-encoded, as Graph takes it too.
    const botUnreact = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(c.pageToken)}`, undefined, {
      form: { recipient: JSON.stringify({ id: c.psid }), sender_action: 'unreact', payload: JSON.stringify({ message_id: mine.mid }) },
    });
    expect(botUnreact.status).toBe(200);
    await otherDevice.waitFor("the Page's unreact", (e) => e.type === 'reaction' && e.by === 'page' && e.emoji === null);
    // The Page's own reactions are not echoed to its bots.
    await settled(c);
    expect(itemsFor(c.page.id, (m) => m.reaction).map((m) => m.reaction.emoji)).toEqual(['❤️', '👍🏽', '👍🏽', '😆']);
    await otherDevice.close();
  });

  it('refuses reactions to messages of other threads, and what is not one emoji', async () => {
    const c = await setup();
    const d = await setup();
    const theirs = await personSays(api, d.person, d.thread.id, 'hello');
    const wrongThread = await api.put(`/threads/${c.thread.id}/messages/${theirs.mid}/reaction`, { reaction: '😊' }, { token: c.person.token });
    expect(wrongThread.status).toBe(404);
    expect(wrongThread.body.code).toBe('THREAD.MESSAGE_NOT_FOUND');
    // Another person's thread is not found at all.
    const notMine = await api.put(`/threads/${d.thread.id}/messages/${theirs.mid}/reaction`, { reaction: '😊' }, { token: c.person.token });
    expect(notMine.status).toBe(404);
    expect(notMine.body.code).toBe('THREAD.NOT_FOUND');
    for (const reaction of ['love', '😊😊', '', 42, null]) {
      const bad = await api.put(`/threads/${d.thread.id}/messages/${theirs.mid}/reaction`, { reaction }, { token: d.person.token });
      expect(bad.status).toBe(400);
    }
    const badMid = await api.put(`/threads/${d.thread.id}/messages/nope/reaction`, { reaction: '😊' }, { token: d.person.token });
    expect(badMid.status).toBe(400);
    // A bot can't react to a message of a conversation on another Page.
    const crossPage = await sendApi(c.pageToken, { recipient: { id: c.psid }, sender_action: 'react', payload: { message_id: theirs.mid, reaction: '😊' } });
    expect(crossPage.status).toBe(400);
    expect(crossPage.body.error).toMatchObject({ code: 100, message: expect.stringContaining('payload[message_id]') });
    const [row] = await t.db.query('SELECT reactions FROM messages WHERE mid = $1', [theirs.mid]);
    expect(row.reactions).toEqual({});
  });

  it("sends the person's edits as message_edits, at most five, and only of their own text", async () => {
    const c = await setup();
    const otherDevice = await connectPerson(t.url, c.person.token);
    const sent = await personSays(api, c.person, c.thread.id, 'I want a blue one');
    const edit = (mid: string, text: unknown) => api.patch(`/threads/${c.thread.id}/messages/${mid}`, { text }, { token: c.person.token });

    const first = await edit(sent.mid, 'I want a green one');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ mid: sent.mid, seq: sent.seq, text: 'I want a green one', num_edit: 1, sender: 'person' });
    const [item] = await waitItems('the edit', c.page.id, 1, (m) => m.message_edit);
    expect(item).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      message_edit: { mid: sent.mid, text: 'I want a green one', num_edit: 1 },
    });
    const onDevice = await otherDevice.waitFor('the edit on another device', (e) => e.type === 'edit');
    expect(onDevice.message).toMatchObject({ mid: sent.mid, text: 'I want a green one', num_edit: 1 });

    // The same text is no edit.
    expect((await edit(sent.mid, 'I want a green one')).body.num_edit).toBe(1);
    for (let i = 2; i <= 5; i++) expect((await edit(sent.mid, `version ${i}`)).body.num_edit).toBe(i);
    const sixth = await edit(sent.mid, 'version 6');
    expect(sixth.status).toBe(409);
    expect(sixth.body.code).toBe('THREAD.EDIT_LIMIT');
    await settled(c);
    expect(itemsFor(c.page.id, (m) => m.message_edit).map((m) => m.message_edit.num_edit)).toEqual([1, 2, 3, 4, 5]);
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === sent.mid)).toMatchObject({ text: 'version 5', num_edit: 5 });

    // Not the Page's message; not after 15 minutes; not blank.
    const reply = await sendApi(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'Green it is' } });
    const pages = await edit(reply.body.message_id, 'forged');
    expect(pages.status).toBe(400);
    expect(pages.body.code).toBe('THREAD.NOT_EDITABLE');
    const old = await personSays(api, c.person, c.thread.id, 'an old one');
    await t.db.query('UPDATE messages SET timestamp = timestamp - 16 * 60000 WHERE mid = $1', [old.mid]);
    const late = await edit(old.mid, 'too late');
    expect(late.status).toBe(409);
    expect(late.body.code).toBe('THREAD.EDIT_WINDOW_CLOSED');
    for (const text of ['', '   ', 'x'.repeat(2000), 7]) expect((await edit(old.mid, text)).status).toBe(400);
    const [row] = await t.db.query('SELECT content, num_edit FROM messages WHERE mid = $1', [old.mid]);
    expect(row).toEqual({ content: { text: 'an old one' }, num_edit: 0 });
    await otherDevice.close();
  });

  it("sends the person's replies to a message with Messenger's reply_to, is_self_reply on their own", async () => {
    const c = await setup();
    const d = await setup();
    const otherDevice = await connectPerson(t.url, c.person.token);
    const question = await sendApi(c.pageToken, { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'Which size?' } });
    const pageMid = question.body.message_id as string;
    const say = (body: Record<string, unknown>) =>
      api.post(`/threads/${c.thread.id}/messages`, { client_message_id: clientId(), ...body }, { token: c.person.token });

    const toPage = await say({ text: 'Medium', reply_to: { mid: pageMid } });
    expect(toPage.status).toBe(201);
    const mine = await personSays(api, c.person, c.thread.id, 'And in blue');
    const toSelf = await say({ text: 'I meant navy', reply_to: { mid: mine.mid } });
    expect(toSelf.status).toBe(201);
    const [first] = await waitItems('the reply', c.page.id, 1, (m) => m.message?.mid === toPage.body.mid);
    expect(first.message).toEqual({ mid: toPage.body.mid, text: 'Medium', reply_to: { mid: pageMid } });
    const [second] = await waitItems('the self-reply', c.page.id, 1, (m) => m.message?.mid === toSelf.body.mid);
    expect(second.message).toEqual({ mid: toSelf.body.mid, text: 'I meant navy', reply_to: { mid: mine.mid, is_self_reply: true } });
    // The person's other devices and history quote it too.
    const echoed = await otherDevice.waitFor('the reply on another device', (e) => e.type === 'echo' && e.message.mid === toSelf.body.mid);
    expect(echoed.message.reply_to).toEqual({ mid: mine.mid });
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(history.body.data.find((m: any) => m.mid === toPage.body.mid).reply_to).toEqual({ mid: pageMid });

    // Only a message of this thread; nothing is written when refused.
    const theirs = await personSays(api, d.person, d.thread.id, 'elsewhere');
    const [{ n: before }] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    const foreign = await say({ text: 'x', reply_to: { mid: theirs.mid } });
    expect([foreign.status, foreign.body.code]).toEqual([400, 'THREAD.REPLY_TO_NOT_FOUND']);
    for (const reply_to of [{ mid: 'nope' }, {}, 'm_x', { mid: 7 }]) expect((await say({ text: 'x', reply_to })).status).toBe(400);
    const [{ n: after }] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    expect(after).toBe(before);
    await otherDevice.close();
  });

  it('sends a ref link as messaging_referrals, or on the Get Started postback of a new thread', async () => {
    // A returning person: the referral arrives at once.
    const c = await setup();
    await personSays(api, c.person, c.thread.id, 'hi');
    const again = await api.post('/threads', { page_id: c.page.id, ref: 'summer-sale' }, { token: c.person.token });
    expect(again.status).toBe(200);
    const [ref] = await waitItems('the referral', c.page.id, 1, (m) => m.referral);
    expect(ref).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      referral: { ref: 'summer-sale', source: 'SHORTLINK', type: 'OPEN_THREAD' },
    });

    // A new thread on a Page with Get Started: the ref rides on that postback, once.
    const g = await setup({ getStarted: true });
    const newcomer = await signupPerson(api, 'Newcomer');
    const opened = await api.post('/threads', { page_id: g.page.id, ref: 'ad:42' }, { token: newcomer.token });
    expect(opened.status).toBe(201);
    const tap = () =>
      api.post(`/threads/${opened.body.id}/postbacks`, { title: 'Get Started', payload: 'GET_STARTED', client_message_id: clientId() }, { token: newcomer.token });
    expect((await tap()).status).toBe(201);
    expect((await tap()).status).toBe(201);
    const postbacks = await waitItems('two Get Started postbacks', g.page.id, 2, (m) => m.postback);
    expect(postbacks[0].postback).toMatchObject({ payload: 'GET_STARTED', referral: { ref: 'ad:42', source: 'SHORTLINK', type: 'OPEN_THREAD' } });
    expect(postbacks[1].postback.referral).toBeUndefined();
    expect(itemsFor(g.page.id, (m) => m.referral)).toEqual([]);

    // Taps at once: one of them carries the ref.
    const racer = await signupPerson(api, 'Racer');
    const raced = await api.post('/threads', { page_id: g.page.id, ref: 'race:1' }, { token: racer.token });
    const taps = await Promise.all(
      [0, 1, 2, 3].map(() =>
        api.post(`/threads/${raced.body.id}/postbacks`, { title: 'Get Started', payload: 'GET_STARTED', client_message_id: clientId() }, { token: racer.token }),
      ),
    );
    expect(taps.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const tapMids = taps.map((r) => r.body.mid);
    const racedPostbacks = await waitItems('the four taps', g.page.id, 4, (m) => tapMids.includes(m.postback?.mid));
    expect(racedPostbacks.filter((m) => m.postback.referral).map((m) => m.postback.referral.ref)).toEqual(['race:1']);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1 AND content ? 'ref'`, [raced.body.id]))[0].n).toBe(1);

    // A new thread whose person writes instead of tapping Get Started: the first message releases the ref, once,
    // and a later Get Started carries none.
    const typist = await signupPerson(api, 'Typist');
    const typed = await api.post('/threads', { page_id: g.page.id, ref: 'typed-first' }, { token: typist.token });
    expect(typed.status).toBe(201);
    const first = await personSays(api, typist, typed.body.id, 'hello?');
    await personSays(api, typist, typed.body.id, 'anyone?');
    const released = await waitItems('the released referral', g.page.id, 1, (m) => m.referral?.ref === 'typed-first');
    const [{ psid: typistPsid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [typed.body.id]);
    expect(released[0].sender).toEqual({ id: typistPsid });
    const laterTap = await api.post(`/threads/${typed.body.id}/postbacks`, { title: 'Get Started', payload: 'GET_STARTED', client_message_id: clientId() }, { token: typist.token });
    await waitItems('the later tap', g.page.id, 1, (m) => m.postback?.mid === laterTap.body.mid);
    expect(itemsFor(g.page.id, (m) => m.postback?.mid === laterTap.body.mid)[0].postback.referral).toBeUndefined();
    expect(itemsFor(g.page.id, (m) => m.referral?.ref === 'typed-first')).toHaveLength(1);
    // After the message that released it, in the thread's order.
    const order = itemsFor(g.page.id, (m) => m.sender?.id === typistPsid).map((m) => (m.referral ? 'referral' : m.message?.mid === first.mid ? 'first' : 'other'));
    expect(order.indexOf('first')).toBeLessThan(order.indexOf('referral'));

    for (const bad of ['', 'has space', 'x'.repeat(251), 5]) {
      expect((await api.post('/threads', { page_id: c.page.id, ref: bad }, { token: c.person.token })).status).toBe(400);
    }
  });
});
