import fc from 'fast-check';
import sharp from 'sharp';
import { BotReceiver, receivedEntries, waitForEntry } from '../support/bot-receiver';
import { anyQueryText, anyText, expectNo5xx, fuzzBody } from '../support/fuzz-request';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson, PersonSocket } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { startStaticServer, StaticServer } from '../support/static-server';
import { waitFor } from '../support/wait-for';
import { openThread, pageSays, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

const FIELDS = ['messages', 'message_echoes', 'standby', 'messaging_handovers'];
const INBOX = '263902037430900';

// The Page Inbox (src/inbox) over real Postgres and Redis: a Page's admins read its conversations and answer them
// as the Page; on a Page with a primary bot they take a conversation over and hand it back (handover protocol),
// and the bot hears of each step by signed webhook.
describe('Page Inbox', () => {
  let t: TestPlatform;
  let api: HttpClient;
  const receivers: BotReceiver[] = [];
  let cdn: StaticServer;
  let cdnUrl: string;

  beforeAll(async () => {
    // A short recheck, so an admin's removal reaches their watching socket within the test.
    // Loopback allowed for the personas' pictures (a local "CDN").
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500', WS_TOKEN_RECHECK_MS: '300', OUTBOUND_ALLOWLIST: '127.0.0.0/8' } });
    api = httpClient(t.url);
    const face = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#4a8' } }).png().toBuffer();
    cdn = await startStaticServer({ '/sam.png': { type: 'image/png', body: face } });
    cdnUrl = cdn.url;
  });
  afterAll(async () => {
    await cdn?.close();
    for (const r of receivers) await r.close();
    await t?.close();
  });

  const entries = receivedEntries;

  async function business() {
    const owner = await signupPerson(api, 'Shop Owner');
    const page = await createPage(api, owner, 'Corner Shop');
    const { bot, pageToken, ...app } = await subscribedApp(api, owner, page.id, 'Shop Bot', FIELDS);
    receivers.push(bot);
    const inbox = (path: string) => `/pages/${page.id}/inbox${path}`;
    return { owner, page, app, pageToken, bot, inbox };
  }

  async function customer(pageId: string, name = 'Ada Customer') {
    const person = await signupPerson(api, name);
    const thread = await openThread(api, person, pageId);
    return { person, thread };
  }

  it("lets a Page's admins read and answer its conversations as the Page; bots get the echo", async () => {
    const b = await business();
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'Do you open on Sundays?');
    const second = await personSays(api, c.person, c.thread.id, 'And is there parking?');
    const [{ psid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);

    const list = await api.get(b.inbox(''), { token: b.owner.token });
    expect(list.status).toBe(200);
    expect(list.body.paging).toEqual({ next_cursor: null });
    expect(list.body.data).toEqual([
      {
        id: c.thread.id,
        psid,
        person: { name: 'Ada Customer' },
        last_message: expect.objectContaining({ mid: second.mid, seq: 2, sender: 'person', text: 'And is there parking?' }),
        unread_count: 2,
        last_timestamp: second.timestamp,
        control: { handover: false, controller_app_id: null, controller_name: null, inbox_has_control: true },
        done: false,
        blocked: false,
        assignee: null,
      },
    ]);
    const messages = await api.get(b.inbox(`/${c.thread.id}/messages?after_seq=1`), { token: b.owner.token });
    expect(messages.body).toMatchObject({ has_more: false, last_seq: 2, data: [{ mid: second.mid, seq: 2, text: 'And is there parking?' }] });

    // Reading: the person sees "Seen", the inbox's unread count drops.
    expect((await api.post(b.inbox(`/${c.thread.id}/read`), {}, { token: b.owner.token })).status).toBe(204);
    expect((await api.get(b.inbox(''), { token: b.owner.token })).body.data[0].unread_count).toBe(0);
    expect((await api.get(`/threads/${c.thread.id}`, { token: c.person.token })).body.seen_by_page_seq).toBe(2);

    // Answering as the Page: once, whatever the retries.
    const reply = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Yes, 10 to 4, and we have parking.', client_message_id: 'i-1' }, { token: b.owner.token });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({ mid: expect.stringMatching(/^m_/), seq: 3, timestamp: expect.any(Number) });
    const retry = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Yes, 10 to 4, and we have parking.', client_message_id: 'i-1' }, { token: b.owner.token });
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(reply.body);
    // The Page's people see which app sent each of the Page's messages; the person doesn't.
    const bot = await pageSays(api, b.pageToken, psid, { text: 'A bot note' });
    expect(bot.status).toBe(200);
    const asPage = await api.get(b.inbox(`/${c.thread.id}/messages?after_seq=2`), { token: b.owner.token });
    expect(asPage.body.data.map((m: any) => [m.sender, m.app_id])).toEqual([
      ['page', INBOX],
      ['page', b.app.id],
    ]);
    const seen = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(seen.body.data.some((m: any) => 'app_id' in m)).toBe(false);
    expect(seen.body.data.map((m: any) => [m.sender, m.text])).toEqual([
      ['person', 'Do you open on Sundays?'],
      ['person', 'And is there parking?'],
      ['page', 'Yes, 10 to 4, and we have parking.'],
      ['page', 'A bot note'],
    ]);
    // The bot sees the human's answer as the Page's echo, under the Page Inbox's app id, as on Messenger.
    const [key, echo] = await waitForEntry('the echo', b.bot, (_, m) => m.message?.is_echo && m.message.mid === reply.body.mid);
    expect(key).toBe('messaging');
    expect(echo).toEqual({
      sender: { id: b.page.id },
      recipient: { id: psid },
      timestamp: reply.body.timestamp,
      message: { is_echo: true, app_id: Number(INBOX), mid: reply.body.mid, text: 'Yes, 10 to 4, and we have parking.' },
    });
  });

  it('takes a conversation over from the primary bot and hands it back, each step told to the bot', async () => {
    const b = await business();
    expect((await api.put(`/pages/${b.page.id}/apps/${b.app.id}/handover-role`, { role: 'primary' }, { token: b.owner.token })).status).toBe(200);
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'I want to talk to a person');
    const [{ psid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
    const botControl = { handover: true, controller_app_id: b.app.id, controller_name: 'Shop Bot', inbox_has_control: false };
    const inboxControl = { handover: true, controller_app_id: INBOX, controller_name: 'Page Inbox', inbox_has_control: true };
    expect((await api.get(b.inbox(''), { token: b.owner.token })).body.data[0].control).toEqual(botControl);

    // While the bot controls the thread the people can't answer, and nothing is written.
    const early = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Hello, Sam here' }, { token: b.owner.token });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'INBOX.NOT_IN_CONTROL', message: expect.stringContaining('Shop Bot') });
    expect((await api.post(b.inbox(`/${c.thread.id}/release`), {}, { token: b.owner.token })).body.code).toBe('INBOX.NOT_IN_CONTROL');
    expect((await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]))[0].n).toBe(1);

    const taken = await api.post(b.inbox(`/${c.thread.id}/take`), {}, { token: b.owner.token });
    expect(taken.status).toBe(200);
    expect(taken.body).toEqual({ control: inboxControl });
    const [, notice] = await waitForEntry('take_thread_control', b.bot, (_, m) => m.take_thread_control);
    expect(notice).toEqual({
      sender: { id: psid },
      recipient: { id: b.page.id },
      timestamp: expect.any(Number),
      take_thread_control: { previous_owner_app_id: b.app.id, new_owner_app_id: INBOX },
    });
    // Taking what the inbox has already changes nothing and tells nobody.
    expect((await api.post(b.inbox(`/${c.thread.id}/take`), {}, { token: b.owner.token })).body).toEqual({ control: inboxControl });

    // Now the person's messages reach the bot on standby, and the bot may not send.
    const meanwhile = await personSays(api, c.person, c.thread.id, 'Thanks!');
    await waitForEntry('standby copy', b.bot, (k, m) => k === 'standby' && m.message?.mid === meanwhile.mid);
    expect((await pageSays(api, b.pageToken, psid, { text: 'bot butts in' })).body.error).toMatchObject({ code: 10, error_subcode: 2018300 });
    const human = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Hello, Sam here' }, { token: b.owner.token });
    expect(human.status).toBe(201);
    await waitForEntry('the echo on standby', b.bot, (k, m) => k === 'standby' && m.message?.mid === human.body.mid);

    // Done: the conversation goes back to the bot, which is told the Page Inbox passed it.
    const released = await api.post(b.inbox(`/${c.thread.id}/release`), {}, { token: b.owner.token });
    expect(released.body).toEqual({ control: botControl });
    const [, back] = await waitForEntry('pass_thread_control', b.bot, (_, m) => m.pass_thread_control);
    expect(back.pass_thread_control).toEqual({ previous_owner_app_id: INBOX, new_owner_app_id: b.app.id });
    expect(entries(b.bot).filter(([, m]) => m.take_thread_control)).toHaveLength(1);
    expect((await pageSays(api, b.pageToken, psid, { text: 'Anything else?' })).status).toBe(200);
    expect((await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'late' }, { token: b.owner.token })).status).toBe(409);

    // A Page without a primary bot has nothing to take.
    expect((await api.put(`/pages/${b.page.id}/apps/${b.app.id}/handover-role`, { role: null }, { token: b.owner.token })).status).toBe(200);
    expect((await api.post(b.inbox(`/${c.thread.id}/take`), {}, { token: b.owner.token })).body.code).toBe('INBOX.NO_HANDOVER');
  });

  it('lets only the Page admins in, keeps to the human agent window, and pages through threads', async () => {
    const b = await business();
    const other = await business();
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'hello');
    const d = await customer(other.page.id);
    await personSays(api, d.person, d.thread.id, 'hi other shop');
    const stranger = await signupPerson(api, 'Stranger');

    const routes: [string, string, unknown?][] = [
      ['get', ''],
      ['get', `/${c.thread.id}/messages`],
      ['post', `/${c.thread.id}/messages`, { text: 'x' }],
      ['post', `/${c.thread.id}/take`, {}],
      ['post', `/${c.thread.id}/release`, {}],
      ['post', `/${c.thread.id}/read`, {}],
    ];
    for (const [method, path, body] of routes) {
      const call = (token?: string) =>
        method === 'get' ? api.get(b.inbox(path), { token }) : api.post(b.inbox(path), body, { token });
      expect((await call()).status).toBe(401);
      const refused = await call(stranger.token);
      expect([path, refused.status, refused.body.code]).toEqual([path, 403, 'PAGE.NOT_ADMIN']);
      // The person of the conversation is not the Page's admin either.
      expect((await call(c.person.token)).status).toBe(403);
    }
    // Another Page's thread is not found from this Page, whoever asks.
    for (const path of [`/${d.thread.id}/messages`, `/${d.thread.id}/read`]) {
      const res = path.endsWith('read') ? await api.post(b.inbox(path), {}, { token: b.owner.token }) : await api.get(b.inbox(path), { token: b.owner.token });
      expect([res.status, res.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    }
    const foreign = await api.post(b.inbox(`/${d.thread.id}/messages`), { text: 'x' }, { token: b.owner.token });
    expect(foreign.status).toBe(404);

    // Bad input is a 400 in the route's shape.
    for (const body of [{}, { text: '' }, { text: '   ' }, { text: 'x'.repeat(2000) }, { text: 'ok', client_message_id: 'no spaces' }, { text: 7 }]) {
      const res = await api.post(b.inbox(`/${c.thread.id}/messages`), body, { token: b.owner.token });
      expect([JSON.stringify(body).slice(0, 40), res.status, res.body.code]).toEqual([JSON.stringify(body).slice(0, 40), 400, expect.any(String)]);
    }
    expect((await api.get(b.inbox('?cursor=nope'), { token: b.owner.token })).status).toBe(400);
    expect((await api.get(b.inbox(`/${c.thread.id}/messages?after_seq=-1`), { token: b.owner.token })).status).toBe(400);

    // A human answer keeps to the human agent window (7 days) after the person's last message.
    await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now() - 8 * 86_400_000]);
    const late = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Sorry for the wait' }, { token: b.owner.token });
    expect([late.status, late.body.code]).toEqual([409, 'INBOX.OUTSIDE_WINDOW']);
    await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now() - 6 * 86_400_000]);
    expect((await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Sorry for the wait' }, { token: b.owner.token })).status).toBe(201);

    // Newest activity first, a page at a time; a thread nobody wrote in is not listed.
    const more = [await customer(b.page.id, 'Bea'), await customer(b.page.id, 'Cy')];
    await personSays(api, more[0].person, more[0].thread.id, 'first');
    await personSays(api, more[1].person, more[1].thread.id, 'second');
    await customer(b.page.id, 'Silent');
    const first = await api.get(b.inbox('?limit=2'), { token: b.owner.token });
    expect(first.body.data.map((x: any) => x.person.name)).toEqual(['Cy', 'Bea']);
    const rest = await api.get(b.inbox(`?limit=2&cursor=${first.body.paging.next_cursor}`), { token: b.owner.token });
    expect(rest.body.data.map((x: any) => x.person.name)).toEqual(['Ada Customer']);
    expect(rest.body.paging.next_cursor).toBeNull();
  });

  it("files conversations: done until the person writes again, and assigned to the Page's admins", async () => {
    const b = await business();
    const ada = await customer(b.page.id, 'Ada');
    const bob = await customer(b.page.id, 'Bob');
    await personSays(api, ada.person, ada.thread.id, 'Thanks, all sorted');
    await personSays(api, bob.person, bob.thread.id, 'Where is my parcel?');
    const ids = async (query = '', token = b.owner.token) => {
      const res = await api.get(b.inbox(query), { token });
      expect(res.status).toBe(200);
      return res.body.data.map((r: any) => r.id);
    };
    const file = (threadId: string, change: unknown, token = b.owner.token) => api.patch(b.inbox(`/${threadId}`), change, { token });

    const done = await file(ada.thread.id, { done: true });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ id: ada.thread.id, done: true, assignee: null, person: { name: 'Ada' } });
    expect(await ids()).toEqual([bob.thread.id]);
    expect(await ids('?folder=done')).toEqual([ada.thread.id]);
    expect(await ids('?folder=all')).toEqual([bob.thread.id, ada.thread.id]);
    // Found by name, any case; % and _ are just characters.
    expect(await ids('?folder=all&q=AD')).toEqual([ada.thread.id]);
    expect(await ids('?folder=all&q=%25')).toEqual([]);
    expect(await ids('?folder=all&q=_')).toEqual([]);
    expect((await api.get(b.inbox(`?q=${'x'.repeat(101)}`), { token: b.owner.token })).status).toBe(400);
    // Graph's conversations folders say the same.
    const graph = (folder: string) => api.get(`/v25.0/me/conversations?folder=${folder}&access_token=${encodeURIComponent(b.pageToken)}`);
    expect((await graph('page_done')).body.data.map((c: any) => c.id)).toEqual([`t_${ada.thread.id}`]);
    expect((await graph('inbox')).body.data.map((c: any) => c.id)).toEqual([`t_${bob.thread.id}`]);
    expect((await graph('spam')).body).toEqual({ data: [], paging: { cursors: {} } });
    const badFolder = await graph('archive');
    expect([badFolder.status, badFolder.body.error.code]).toEqual([400, 100]);
    // The Page's own message keeps it done; the person writing again brings it back by itself.
    const [{ psid: adaPsid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [ada.thread.id]);
    expect((await pageSays(api, b.pageToken, adaPsid, { text: 'Glad to help' })).status).toBe(200);
    expect(await ids('?folder=done')).toEqual([ada.thread.id]);
    const again = await personSays(api, ada.person, ada.thread.id, 'Actually, one more thing');
    expect(await ids()).toEqual([ada.thread.id, bob.thread.id]);
    expect(await ids('?folder=done')).toEqual([]);
    // Done as of what the filer saw: a message they hadn't seen refuses it.
    const stale = await file(ada.thread.id, { done: true, last_seq: again.seq - 1 });
    expect([stale.status, stale.body.code]).toEqual([409, 'INBOX.THREAD_CHANGED']);
    expect(await ids('?folder=done')).toEqual([]);
    // The Page's own messages after what the filer saw don't count.
    expect((await pageSays(api, b.pageToken, adaPsid, { text: 'Noted' })).status).toBe(200);
    expect((await file(ada.thread.id, { done: true, last_seq: again.seq })).body.done).toBe(true);
    // A conversation without a message is not in the inbox: nothing to file.
    const quiet = await customer(b.page.id, 'Quiet');
    expect((await file(quiet.thread.id, { done: true })).status).toBe(404);
    await file(ada.thread.id, { done: true });
    expect((await file(ada.thread.id, { done: false })).body.done).toBe(false);
    expect(await ids('?folder=done')).toEqual([]);

    // Assigned to an admin: each sees their own with assignee=me.
    const helper = await signupPerson(api, 'Helper');
    expect((await api.post(`/pages/${b.page.id}/admins`, { username: helper.username }, { token: b.owner.token })).status).toBe(201);
    const assigned = await file(bob.thread.id, { assignee_id: helper.id });
    expect(assigned.body).toMatchObject({ id: bob.thread.id, assignee: { id: helper.id, name: 'Helper' }, done: false });
    expect(await ids('?assignee=me')).toEqual([]);
    expect(await ids('?assignee=me', helper.token)).toEqual([bob.thread.id]);
    expect(await ids(`?assignee=${helper.id}`)).toEqual([bob.thread.id]);
    expect(await ids('?assignee=none')).toEqual([ada.thread.id]);

    // Refusals: someone not an admin as assignee, nothing to change, bad values, someone not an admin filing.
    const outsider = await file(bob.thread.id, { assignee_id: bob.person.id });
    expect([outsider.status, outsider.body.code]).toEqual([400, 'INBOX.ASSIGNEE_NOT_ADMIN']);
    expect((await file(bob.thread.id, {})).status).toBe(400);
    expect((await file(bob.thread.id, { done: 'yes' })).status).toBe(400);
    expect((await api.get(b.inbox('?folder=spam'), { token: b.owner.token })).status).toBe(400);
    const stranger = await file(bob.thread.id, { done: true }, bob.person.token);
    expect([stranger.status, stranger.body.code]).toEqual([403, 'PAGE.NOT_ADMIN']);
    expect((await file('123', { done: true })).status).toBe(404);

    // An admin who leaves the Page leaves its conversations to nobody.
    expect((await api.delete(`/pages/${b.page.id}/admins/${helper.id}`, { token: b.owner.token })).status).toBe(204);
    expect(await ids('?assignee=none')).toEqual([ada.thread.id, bob.thread.id]);
    expect((await file(bob.thread.id, { assignee_id: null })).body.assignee).toBeNull();
  });

  it("lets the Page's people answer as a persona: the person sees the agent's name and picture", async () => {
    const b = await business();
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'Can a human help?');
    const personas = (token = b.owner.token) => api.get(b.inbox('/personas'), { token });
    const created = await api.post(b.inbox('/personas'), { name: 'Sam (support)', profile_picture_url: `${cdnUrl}/sam.png` }, { token: b.owner.token });
    expect(created.status).toBe(201);
    const personaId: string = created.body.id;
    const list = await personas();
    expect(list.body).toEqual({ data: [{ id: personaId, name: 'Sam (support)', profile_picture_url: expect.stringMatching(/\/media\/\d+\//) }] });
    // The Page's bots see the same persona on Graph.
    expect((await api.get(`/v25.0/me/personas?access_token=${encodeURIComponent(b.pageToken)}`)).body.data.map((p: any) => p.id)).toEqual([personaId]);

    const sock = await connectPerson(t.url, c.person.token);
    try {
      expect((await api.post(b.inbox(`/${c.thread.id}/typing`), { on: true, persona_id: personaId }, { token: b.owner.token })).status).toBe(204);
      const typing = await sock.waitFor('typing as Sam', (e) => e.type === 'typing' && e.on);
      expect(typing.persona).toMatchObject({ id: personaId, name: 'Sam (support)' });
      const sent = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'Sam here, happy to help.', persona_id: personaId }, { token: b.owner.token });
      expect(sent.status).toBe(201);
      const pushed = await sock.waitFor('the reply', (e) => e.type === 'message' && e.message.mid === sent.body.mid);
      expect(pushed.message.persona).toMatchObject({ id: personaId, name: 'Sam (support)', profile_picture_url: expect.stringMatching(/\/media\//) });
    } finally {
      await sock.close();
    }
    const shown = await api.get(b.inbox(`/${c.thread.id}/messages?after_seq=1`), { token: b.owner.token });
    expect(shown.body.data[0]).toMatchObject({ text: 'Sam here, happy to help.', app_id: INBOX, persona: { name: 'Sam (support)' } });

    // Refusals: an unknown persona, a picture that isn't there, someone not an admin.
    const unknown = await api.post(b.inbox(`/${c.thread.id}/messages`), { text: 'x', persona_id: '123' }, { token: b.owner.token });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'INBOX.PERSONA_NOT_FOUND']);
    // Another Page's admins can neither reply as it nor delete it.
    const other = await business();
    const otherCustomer = await customer(other.page.id);
    await personSays(api, otherCustomer.person, otherCustomer.thread.id, 'Hi');
    const borrowed = await api.post(other.inbox(`/${otherCustomer.thread.id}/messages`), { text: 'x', persona_id: personaId }, { token: other.owner.token });
    expect([borrowed.status, borrowed.body.code]).toEqual([404, 'INBOX.PERSONA_NOT_FOUND']);
    expect((await api.delete(other.inbox(`/personas/${personaId}`), { token: other.owner.token })).status).toBe(404);
    expect((await api.delete(b.inbox(`/personas/${personaId}`), { token: other.owner.token })).status).toBe(403);
    const noPicture = await api.post(b.inbox('/personas'), { name: 'Ghost', profile_picture_url: `${cdnUrl}/missing.png` }, { token: b.owner.token });
    expect([noPicture.status, noPicture.body.code]).toEqual([400, 'INBOX.PERSONA_INVALID']);
    expect((await personas(c.person.token)).status).toBe(403);
    // Deleted: gone from the list; what was sent as it keeps its name.
    expect((await api.delete(b.inbox(`/personas/${personaId}`), { token: b.owner.token })).status).toBe(204);
    expect((await api.delete(b.inbox(`/personas/${personaId}`), { token: b.owner.token })).status).toBe(404);
    expect((await personas()).body.data).toEqual([]);
    const after = await api.get(`/threads/${c.thread.id}/messages?after_seq=1`, { token: c.person.token });
    expect(after.body.data[0].persona).toMatchObject({ name: 'Sam (support)' });
  });

  it("keeps the Page's people's notes on a conversation among them: never the person's, never a bot's", async () => {
    const b = await business();
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'My parcel is damaged');
    const helper = await signupPerson(api, 'Helper');
    expect((await api.post(`/pages/${b.page.id}/admins`, { username: helper.username }, { token: b.owner.token })).status).toBe(201);
    const notes = (token = b.owner.token) => api.get(b.inbox(`/${c.thread.id}/notes`), { token });
    const add = (text: unknown, token = b.owner.token) => api.post(b.inbox(`/${c.thread.id}/notes`), { text }, { token });

    const first = await add('Refund approved.');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ id: expect.stringMatching(/^\d+$/), author: { id: b.owner.id, name: 'Shop Owner' }, text: 'Refund approved.', created_at: expect.any(String) });
    const second = await add('Courier booked for Monday.', helper.token);
    expect((await notes(helper.token)).body.data.map((n: any) => [n.author.name, n.text])).toEqual([
      ['Shop Owner', 'Refund approved.'],
      ['Helper', 'Courier booked for Monday.'],
    ]);

    // Only their author deletes a note; strangers see nothing; bad input is refused.
    const notMine = await api.delete(b.inbox(`/${c.thread.id}/notes/${second.body.id}`), { token: b.owner.token });
    expect([notMine.status, notMine.body.code]).toEqual([403, 'INBOX.NOT_NOTE_AUTHOR']);
    expect((await api.delete(b.inbox(`/${c.thread.id}/notes/${second.body.id}`), { token: helper.token })).status).toBe(204);
    expect((await api.delete(b.inbox(`/${c.thread.id}/notes/${second.body.id}`), { token: helper.token })).status).toBe(404);
    expect((await notes(c.person.token)).status).toBe(403);
    expect((await add('   ')).status).toBe(400);
    expect((await add('x'.repeat(2001))).status).toBe(400);
    const other = await business();
    expect((await api.get(other.inbox(`/${c.thread.id}/notes`), { token: other.owner.token })).status).toBe(404);
    expect((await notes()).body.data.map((n: any) => n.text)).toEqual(['Refund approved.']);

    // Nothing of them reaches the person or the bot.
    const seen = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    expect(JSON.stringify(seen.body)).not.toContain('Refund approved');
    await personSays(api, c.person, c.thread.id, 'Any news?');
    await waitForEntry('the next message at the bot', b.bot, (_, m) => m.message?.text === 'Any news?');
    expect(b.bot.received.some((r) => r.body.toString('utf8').includes('Refund approved'))).toBe(false);
  });

  it('shows the person that the Page is typing while an admin writes, only where a reply could go', async () => {
    const b = await business();
    const c = await customer(b.page.id);
    await personSays(api, c.person, c.thread.id, 'Hello?');
    const sock = await connectPerson(t.url, c.person.token);
    try {
      const typing = (on: unknown, token = b.owner.token) => api.post(b.inbox(`/${c.thread.id}/typing`), { on }, { token });
      expect((await typing(true)).status).toBe(204);
      const shown = await sock.waitFor('typing on', (e) => e.type === 'typing' && e.on === true);
      expect(shown).toMatchObject({ thread_id: c.thread.id, page_id: b.page.id, expires_at: expect.any(Number) });
      expect((await typing(false)).status).toBe(204);
      await sock.waitFor('typing off', (e) => e.type === 'typing' && e.on === false);

      // Refused as a reply would be: bad input, someone not an admin, a thread the bot controls.
      const bad = await typing('yes');
      expect([bad.status, bad.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
      const stranger = await typing(true, c.person.token);
      expect([stranger.status, stranger.body.code]).toEqual([403, 'PAGE.NOT_ADMIN']);
      expect((await api.put(`/pages/${b.page.id}/apps/${b.app.id}/handover-role`, { role: 'primary' }, { token: b.owner.token })).status).toBe(200);
      const botHasIt = await typing(true);
      expect([botHasIt.status, botHasIt.body.code]).toEqual([409, 'INBOX.NOT_IN_CONTROL']);
      expect(sock.events.filter((e) => e.type === 'typing')).toHaveLength(2);
    } finally {
      await sock.close();
    }
  });

  // An admin's console watches the Page's inbox over its WebSocket: a hint names the threads that changed.
  async function watch(sock: PersonSocket, pageId: unknown, ref: string) {
    sock.ws.send(JSON.stringify({ type: 'watch_inbox', ref, page_id: pageId }));
    return sock.waitFor(`answer to ${ref}`, (e) => e.ref === ref);
  }
  const hintFor = (pageId: string, threadId: string) => (e: any) =>
    e.type === 'inbox' && e.page_id === pageId && (e.thread_ids === null || e.thread_ids.includes(threadId));

  it("pushes live hints to the sockets of the Page's admins who watch its inbox, from any api process", async () => {
    const b = await business();
    const c = await customer(b.page.id);
    // The sibling rechecks its watches only every 10 minutes: a removal reaches it by the revoke on the bus alone.
    const sibling = await t.spawnSibling('api', { WS_TOKEN_RECHECK_MS: '600000' });
    const viaSibling = httpClient(sibling.url);
    const sockets: PersonSocket[] = [];
    try {
      const admin = await connectPerson(t.url, b.owner.token);
      sockets.push(admin);
      expect(await watch(admin, b.page.id, 'w1')).toEqual({ type: 'watching', ref: 'w1', page_id: b.page.id });
      // Watching twice is one watch.
      expect(await watch(admin, b.page.id, 'w2')).toEqual({ type: 'watching', ref: 'w2', page_id: b.page.id });

      // Only the Page's admins, with the inbox routes' own refusals.
      const stranger = await connectPerson(t.url, c.person.token);
      sockets.push(stranger);
      expect(await watch(stranger, b.page.id, 's1')).toMatchObject({ type: 'error', ref: 's1', code: 'PAGE.NOT_ADMIN' });
      expect(await watch(stranger, '99999999999', 's2')).toMatchObject({ type: 'error', ref: 's2', code: 'PAGE.NOT_FOUND' });
      expect(await watch(stranger, { id: 1 }, 's3')).toMatchObject({ type: 'error', ref: 's3', code: 'REQUEST.INVALID' });

      // The person writes through the other api process; the admin's socket on this one hears of the thread.
      await personSays(viaSibling, c.person, c.thread.id, 'Is anyone there?');
      await admin.waitFor('the hint for the person message', hintFor(b.page.id, c.thread.id));
      const seen = admin.events.length;
      // The bot's reply, and a change of control, are hints too.
      const [{ psid }] = await t.db.query('SELECT psid FROM threads WHERE id = $1', [c.thread.id]);
      expect((await pageSays(viaSibling, b.pageToken, psid, { text: 'A bot is here' })).status).toBe(200);
      await admin.waitFor('the hint for the reply', (e) => admin.events.indexOf(e) >= seen && hintFor(b.page.id, c.thread.id)(e));
      expect((await api.put(`/pages/${b.page.id}/apps/${b.app.id}/handover-role`, { role: 'primary' }, { token: b.owner.token })).status).toBe(200);
      const beforeTake = admin.events.length;
      expect((await viaSibling.post(b.inbox(`/${c.thread.id}/take`), {}, { token: b.owner.token })).status).toBe(200);
      await admin.waitFor('the hint for the take', (e) => admin.events.indexOf(e) >= beforeTake && hintFor(b.page.id, c.thread.id)(e));
      // The stranger heard nothing of the Page.
      expect(stranger.events.filter((e) => e.type === 'inbox')).toEqual([]);

      // A co-admin removed from the Page stops hearing it, and is told.
      const helper = await signupPerson(api, 'Helper');
      expect((await api.post(`/pages/${b.page.id}/admins`, { username: helper.username }, { token: b.owner.token })).status).toBe(201);
      const helperSock = await connectPerson(sibling.url, helper.token);
      sockets.push(helperSock);
      expect(await watch(helperSock, b.page.id, 'h1')).toMatchObject({ type: 'watching' });
      expect((await api.delete(`/pages/${b.page.id}/admins/${helper.id}`, { token: b.owner.token })).status).toBe(204);
      expect(await helperSock.waitFor('the unwatch', (e) => e.type === 'unwatched')).toEqual({
        type: 'unwatched', ref: null, page_id: b.page.id, reason: 'PAGE.NOT_ADMIN',
      });
      // After that, nothing: the next hint reaches the owner only.
      const unwatchedAt = helperSock.events.length;
      const ownerBefore = admin.events.length;
      await personSays(api, c.person, c.thread.id, 'Still there?');
      await admin.waitFor('the owner hinted', (e) => admin.events.indexOf(e) >= ownerBefore && hintFor(b.page.id, c.thread.id)(e));
      expect(helperSock.events.slice(unwatchedAt).filter((e) => e.type === 'inbox')).toEqual([]);

      // Unwatching is answered; the socket goes on.
      admin.ws.send(JSON.stringify({ type: 'unwatch_inbox', ref: 'u1', page_id: b.page.id }));
      expect(await admin.waitFor('the unwatch answer', (e) => e.ref === 'u1')).toEqual({ type: 'unwatched', ref: 'u1', page_id: b.page.id });
    } finally {
      for (const s of sockets) await s.close();
      await sibling.stop();
    }
  }, 60_000);

  it('never answers 5xx to random input, and writes nothing when it refuses', async () => {
    // A Page with no bot: nothing is delivered in the background, so "nothing written" is this request's alone.
    const owner = await signupPerson(api, 'Fuzz Owner');
    const page = await createPage(api, owner);
    const b = { owner, inbox: (path: string) => `/pages/${page.id}/inbox${path}`, page };
    const c = await customer(page.id);
    await personSays(api, c.person, c.thread.id, 'fuzz me');
    const routes = [
      { method: 'GET', path: b.inbox('') },
      { method: 'GET', path: b.inbox(`/${c.thread.id}/messages`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/messages`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/take`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/release`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/read`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/typing`) },
      { method: 'PATCH', path: b.inbox(`/${c.thread.id}`) },
      { method: 'GET', path: b.inbox('/personas') },
      { method: 'POST', path: b.inbox('/personas') },
      { method: 'DELETE', path: b.inbox('/personas/1') },
      { method: 'GET', path: b.inbox(`/${c.thread.id}/notes`) },
      { method: 'POST', path: b.inbox(`/${c.thread.id}/notes`) },
      { method: 'DELETE', path: b.inbox(`/${c.thread.id}/notes/1`) },
      { method: 'GET', path: `/pages/${b.page.id}/inbox/%2e%2e/messages` },
    ];
    const body = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom('text', 'client_message_id', 'on', 'done', 'assignee_id', 'persona_id', 'name', 'profile_picture_url', '__proto__', 'constructor'),
        fc.oneof(anyText(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyText()), fc.jsonValue()),
      ),
    );
    const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', '');
    const query = fc.oneof(
      fc.constant(''),
      anyQueryText().map((s) => `?cursor=${encodeURIComponent(s)}&limit=${encodeURIComponent(s)}&after_seq=${encodeURIComponent(s)}`),
      anyQueryText().map((s) => `?folder=${encodeURIComponent(s)}&assignee=${encodeURIComponent(s)}&q=${encodeURIComponent(s)}`),
      fc.constant('?limit=0&after_seq=1e99'),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: routes.length - 1 }), body, contentType, query, async (i, raw, ct, q) => {
        const route = routes[i];
        const headers: Record<string, string> = { authorization: `Bearer ${b.owner.token}` };
        if (ct) headers['content-type'] = ct;
        await expectNo5xx(t.db, api, route.method, `${route.path}${q}`, { headers, raw: route.method !== 'GET' ? fuzzBody(ct, raw) : undefined });
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});
