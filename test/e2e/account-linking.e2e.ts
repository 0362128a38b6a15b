import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { receivedEntries, waitForEntry } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, openThread, pageSays, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson, subscribedApp } from '../factories/registry.factory';

// Messenger's account linking over real HTTP, Postgres and Redis: a business's login page (a local server) that asks
// whose Log In tap it is and sends the person back with an authorization code; the Page's bot gets
// messaging_account_linking, signed, and unlinks through the Graph API.
describe('account linking', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let login: LoginPage;

  beforeAll(async () => {
    t = await startTestPlatform({});
    api = httpClient(t.url);
    login = await startLoginPage();
  });
  afterAll(async () => {
    await login?.close();
    await t?.close();
  });

  async function setup() {
    const owner = await signupPerson(api, 'Shop owner');
    const page = await createPage(api, owner, 'Shop');
    const app = await subscribedApp(api, owner, page.id, 'Shop bot', [...ALL_FIELDS.split(','), 'messaging_account_linking']);
    login.pageTokens.set(page.id, app.pageToken);
    const person = await signupPerson(api, 'Customer');
    const thread = await openThread(api, person, page.id);
    await personSays(api, person, thread.id, 'I want to see my orders');
    const [{ psid }] = await t.db.query<{ psid: string }>('SELECT psid FROM threads WHERE id = $1', [thread.id]);
    const loginUrl = `${login.url}/login?shop=${page.id}`;
    const offer = await pageSays(api, app.pageToken, psid, {
      attachment: {
        type: 'template',
        payload: { template_type: 'button', text: 'Log in to see your orders', buttons: [{ type: 'account_link', url: loginUrl }, { type: 'account_unlink' }] },
      },
    });
    expect(offer.status).toBe(200);
    const c = { owner, page, app, person, thread, psid, loginUrl, mid: offer.body.message_id as string };
    cleanups.push(() => app.bot.close());
    return c;
  }
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((f) => f()));
  });
  type Ctx = Awaited<ReturnType<typeof setup>>;

  const start = (c: Ctx, body: unknown = { mid: c.mid, url: c.loginUrl }) =>
    api.post(`/threads/${c.thread.id}/account-linking`, body, { token: c.person.token });
  const linkingItems = (c: Ctx) => receivedEntries(c.app.bot).filter(([, m]) => m.account_linking).map(([, m]) => m);
  // What a browser does: opens the login page and follows its redirect back to the platform, which sends it on to
  // the chat app with the token and code in the fragment.
  async function browse(authorizeUrl: string) {
    const atLogin = await request(authorizeUrl, { method: 'GET' });
    await atLogin.body.text();
    expect(atLogin.statusCode).toBe(302);
    const back = await request(String(atLogin.headers.location), { method: 'GET' });
    await back.body.text();
    const location = String(back.headers.location);
    return { status: back.statusCode, location, fragment: Object.fromEntries(new URLSearchParams(location.split('#')[1] ?? '')) };
  }
  // What the chat app then does, as the person (the fragment's token and code).
  const complete = (who: { token: string }, fragment: Record<string, unknown>) =>
    api.post('/account-linking/complete', fragment, { token: who.token });

  it('links an account through the business login page, then unlinks it from either side', async () => {
    const c = await setup();
    const device = await connectPerson(t.url, c.person.token);
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body).toEqual({ linked: false });

    const started = await start(c);
    expect(started.status).toBe(201);
    const authorize = new URL(started.body.authorize_url);
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${login.url}/login`);
    expect(authorize.searchParams.get('shop')).toBe(c.page.id);
    const token = authorize.searchParams.get('account_linking_token')!;
    expect(token).toMatch(/^alt_[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.url}/account-linking/complete?account_linking_token=${token}`);
    // Stored only as its hash.
    const stored = await t.db.query<{ token_hash: string }>('SELECT token_hash FROM account_linking_tokens WHERE thread_id = $1', [c.thread.id]);
    expect(stored.map((r) => r.token_hash)).not.toContain(token);
    expect(JSON.stringify(stored)).not.toContain(token.slice(4));

    const back = await browse(started.body.authorize_url);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`/?page=${c.page.id}#account_linking_token=${token}&authorization_code=code-for-${c.psid}`);
    // Nothing is linked by the navigation alone (a prefetcher, or someone else's browser, completes nothing).
    expect((await browse(started.body.authorize_url)).status).toBe(303);
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body).toEqual({ linked: false });
    const done = await complete(c.person, back.fragment);
    expect([done.status, done.body]).toEqual([200, { status: 'linked', linked: true }]);
    // The login page learned whose tap it was from the Graph API, with the Page's token.
    expect(login.lookups.at(-1)).toEqual({ status: 200, body: { id: c.page.id, recipient: c.psid } });

    const [key, linked] = await waitForEntry('linked', c.app.bot, (_, m) => m.account_linking?.status === 'linked');
    expect(key).toBe('messaging');
    expect(linked).toEqual({
      sender: { id: c.psid },
      recipient: { id: c.page.id },
      timestamp: expect.any(Number),
      account_linking: { status: 'linked', authorization_code: `code-for-${c.psid}` },
    });
    const event = await device.waitFor('the linked event', (e) => e.type === 'account_linking');
    expect(event).toMatchObject({ status: 'linked', by: 'person', thread_id: c.thread.id, page_id: c.page.id, cursor: expect.any(Number) });
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body).toEqual({
      linked: true,
      linked_at: expect.any(Number),
    });

    // A token completes once; its return then leads nowhere.
    const again = await complete(c.person, back.fragment);
    expect([again.status, again.body.code]).toEqual([409, 'ACCOUNT_LINKING.TOKEN_USED']);
    expect((await browse(started.body.authorize_url)).location).toBe('/#account_linking_error=expired');

    // Log Out: the bot hears `unlinked`; a second Log Out has nothing to unlink.
    const out = await api.delete(`/threads/${c.thread.id}/account-linking`, { token: c.person.token });
    expect([out.status, out.body]).toEqual([200, { linked: false }]);
    await waitForEntry('unlinked by the person', c.app.bot, (_, m) => m.account_linking?.status === 'unlinked');
    await device.waitFor('the unlinked event', (e) => e.type === 'account_linking' && e.status === 'unlinked' && e.by === 'person');
    const outAgain = await api.delete(`/threads/${c.thread.id}/account-linking`, { token: c.person.token });
    expect([outAgain.status, outAgain.body.code]).toEqual([409, 'ACCOUNT_LINKING.NOT_LINKED']);

    // Linked again, then unlinked by the bot (Account Unlink API, form-encoded as Graph takes it).
    expect((await complete(c.person, (await browse((await start(c)).body.authorize_url)).fragment)).status).toBe(200);
    await waitForEntry('linked again', c.app.bot, () => linkingItems(c).length === 3);
    const unlink = await api.post(`/v25.0/me/unlink_accounts?access_token=${encodeURIComponent(c.app.pageToken)}`, undefined, { form: { psid: c.psid } });
    expect([unlink.status, unlink.body]).toEqual([200, { result: 'unlink account success' }]);
    await device.waitFor('unlinked by the page', (e) => e.type === 'account_linking' && e.status === 'unlinked' && e.by === 'page');
    // Unlinking what is not linked answers the same and tells no one.
    const unlinkAgain = await api.post(`/v25.0/me/unlink_accounts?access_token=${encodeURIComponent(c.app.pageToken)}`, { psid: c.psid });
    expect(unlinkAgain.body).toEqual({ result: 'unlink account success' });
    // Events of one thread arrive in order: once a later message is there, nothing earlier is still coming.
    const marker = await personSays(api, c.person, c.thread.id, 'thanks');
    await waitForEntry('the marker', c.app.bot, (_, m) => m.message?.mid === marker.mid);
    expect(linkingItems(c).map((m) => m.account_linking.status)).toEqual(['linked', 'unlinked', 'linked', 'unlinked']);
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body).toEqual({ linked: false });
    await device.close();
  });

  // As on the rest of a blocked conversation: the person may take back (Log Out), not give (Log In), and the Page
  // reaches them with nothing, an unlink included.
  it('while the person blocks the Page: the Log In return is refused and spends nothing, Log Out stays open, the bot\'s unlink is 551', async () => {
    const c = await setup();
    const block = (on: boolean) =>
      on ? api.post(`/threads/${c.thread.id}/block`, undefined, { token: c.person.token }) : api.delete(`/threads/${c.thread.id}/block`, { token: c.person.token });
    const unlinkByBot = () => api.post(`/v25.0/me/unlink_accounts?access_token=${encodeURIComponent(c.app.pageToken)}`, { psid: c.psid });
    const linkEvents = async () =>
      (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'account_linking'`, [c.person.id]))[0].n;

    const back = await browse((await start(c)).body.authorize_url);
    expect((await block(true)).status).toBe(200);
    const refused = await complete(c.person, back.fragment);
    expect([refused.status, refused.body.code]).toEqual([409, 'THREAD.BLOCKED']);
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body).toEqual({ linked: false });

    // The token was not spent: unblocked within its lifetime, the same return links.
    expect((await block(false)).status).toBe(200);
    expect((await complete(c.person, back.fragment)).body).toEqual({ status: 'linked', linked: true });
    await waitForEntry('linked', c.app.bot, (_, m) => m.account_linking?.status === 'linked');

    expect((await block(true)).status).toBe(200);
    const before = await linkEvents();
    const unlink = await unlinkByBot();
    expect([unlink.status, unlink.body.error]).toEqual([
      400,
      expect.objectContaining({ message: "(#551) This person isn't available right now.", code: 551, error_subcode: 1545041 }),
    ]);
    expect((await api.get(`/threads/${c.thread.id}/account-linking`, { token: c.person.token })).body.linked).toBe(true);
    expect(await linkEvents()).toBe(before);

    const out = await api.delete(`/threads/${c.thread.id}/account-linking`, { token: c.person.token });
    expect([out.status, out.body]).toEqual([200, { linked: false }]);
    await waitForEntry('unlinked by the person', c.app.bot, (_, m) => m.account_linking?.status === 'unlinked');
    expect(linkingItems(c).map((m) => m.account_linking.status)).toEqual(['linked', 'unlinked']);
  });

  it('tells no one when the person gives up at the login page, and spends the token all the same', async () => {
    const c = await setup();
    const started = await start(c);
    const token = new URL(started.body.authorize_url).searchParams.get('account_linking_token')!;
    const back = await request(`${t.url}/account-linking/complete?account_linking_token=${token}`);
    await back.body.text();
    expect([back.statusCode, back.headers.location]).toEqual([303, `/?page=${c.page.id}#account_linking_token=${token}`]);
    const cancelled = await complete(c.person, { account_linking_token: token });
    expect([cancelled.status, cancelled.body]).toEqual([200, { status: 'cancelled', linked: false }]);
    const late = await complete(c.person, { account_linking_token: token, authorization_code: 'x' });
    expect([late.status, late.body.code]).toEqual([409, 'ACCOUNT_LINKING.TOKEN_USED']);
    // A person already linked who gives up at a second login stays linked.
    const again = new URL((await start(c)).body.authorize_url).searchParams.get('account_linking_token')!;
    expect((await complete(c.person, { account_linking_token: again, authorization_code: 'first' })).body).toEqual({ status: 'linked', linked: true });
    const third = new URL((await start(c)).body.authorize_url).searchParams.get('account_linking_token')!;
    expect((await complete(c.person, { account_linking_token: third })).body).toEqual({ status: 'cancelled', linked: true });
    const marker = await personSays(api, c.person, c.thread.id, 'never mind');
    await waitForEntry('the marker', c.app.bot, (_, m) => m.message?.mid === marker.mid);
    expect(linkingItems(c).map((m) => m.account_linking)).toEqual([{ status: 'linked', authorization_code: 'first' }]);
  });

  it('links once when the login page sends the person back twice at the same moment', async () => {
    const c = await setup();
    const token = new URL((await start(c)).body.authorize_url).searchParams.get('account_linking_token')!;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => complete(c.person, { account_linking_token: token, authorization_code: `code-${i}` })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
    const marker = await personSays(api, c.person, c.thread.id, 'done');
    await waitForEntry('the marker', c.app.bot, (_, m) => m.message?.mid === marker.mid);
    expect(linkingItems(c)).toHaveLength(1);
  });

  it('refuses what the Page did not offer, tokens that are not live or not this Page’s, and other people’s threads', async () => {
    const c = await setup();
    const d = await setup();
    // Only a Log In button of the Page's own message, with its URL as sent.
    for (const body of [
      { mid: c.mid, url: 'https://evil.example/login' },
      { mid: c.mid, url: `${c.loginUrl}&x=1` },
      { mid: d.mid, url: d.loginUrl },
    ]) {
      const res = await start(c, body);
      expect([res.status, res.body.code]).toEqual([400, 'ACCOUNT_LINKING.NOT_OFFERED']);
    }
    const own = await personSays(api, c.person, c.thread.id, c.loginUrl);
    expect((await start(c, { mid: own.mid, url: c.loginUrl })).body.code).toBe('ACCOUNT_LINKING.NOT_OFFERED');
    for (const body of [{}, { mid: 'nope', url: c.loginUrl }, { mid: c.mid }, { mid: c.mid, url: 7 }, { mid: c.mid, url: c.loginUrl, extra: 1 }]) {
      const res = await start(c, body);
      expect([res.status, res.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    }
    const theirs = await api.post(`/threads/${d.thread.id}/account-linking`, { mid: d.mid, url: d.loginUrl }, { token: c.person.token });
    expect([theirs.status, theirs.body.code]).toEqual([404, 'THREAD.NOT_FOUND']);
    expect((await api.get(`/threads/${d.thread.id}/account-linking`, { token: c.person.token })).status).toBe(404);
    expect((await api.delete(`/threads/${d.thread.id}/account-linking`, { token: c.person.token })).status).toBe(404);
    expect((await api.post(`/threads/${c.thread.id}/account-linking`, { mid: c.mid, url: c.loginUrl })).status).toBe(401);

    // A Log In link handed to someone else links nobody: only the person who tapped it completes it.
    const handed = await browse((await start(c)).body.authorize_url);
    const stranger = await signupPerson(api, 'Someone else');
    const notYours = await complete(stranger, handed.fragment);
    expect([notYours.status, notYours.body.code]).toEqual([403, 'ACCOUNT_LINKING.NOT_YOURS']);
    expect((await complete(d.person, handed.fragment)).status).toBe(403);
    expect((await api.post('/account-linking/complete', handed.fragment)).status).toBe(401);
    for (const body of [{}, { account_linking_token: 'nope' }, { ...handed.fragment, authorization_code: '' }, { ...handed.fragment, extra: 1 }]) {
      const res = await complete(c.person, body);
      expect([res.status, res.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    }

    // The Graph lookup: this Page's live tokens only; only id and recipient.
    const token = new URL((await start(c)).body.authorize_url).searchParams.get('account_linking_token')!;
    const lookup = (pageToken: string, q: string) => api.get(`/v25.0/me?access_token=${encodeURIComponent(pageToken)}&${q}`);
    expect((await lookup(c.app.pageToken, `fields=recipient&account_linking_token=${token}`)).body).toEqual({ id: c.page.id, recipient: c.psid });
    expect((await lookup(c.app.pageToken, `fields=id,recipient&account_linking_token=${token}`)).body).toEqual({ id: c.page.id, recipient: c.psid });
    for (const [pageToken, q] of [
      [d.app.pageToken, `fields=recipient&account_linking_token=${token}`],
      [c.app.pageToken, `fields=recipient,name&account_linking_token=${token}`],
      [c.app.pageToken, 'fields=recipient&account_linking_token=alt_nope'],
      [c.app.pageToken, 'fields=recipient&account_linking_token='],
      [c.app.pageToken, `fields=recipient&fields=name&account_linking_token=${token}`],
    ]) {
      const res = await lookup(pageToken, q);
      expect([res.status, res.body.error?.code]).toEqual([400, 100]);
    }
    // Expired: neither the lookup nor the return takes it.
    await t.db.query('UPDATE account_linking_tokens SET expires_at = $2 WHERE thread_id = $1', [c.thread.id, Date.now() - 1]);
    expect((await lookup(c.app.pageToken, `fields=recipient&account_linking_token=${token}`)).status).toBe(400);
    const expired = await request(`${t.url}/account-linking/complete?account_linking_token=${token}&authorization_code=x`);
    await expired.body.text();
    expect([expired.statusCode, expired.headers.location]).toEqual([303, '/#account_linking_error=expired']);
    const late = await complete(c.person, { account_linking_token: token, authorization_code: 'x' });
    expect([late.status, late.body.code]).toEqual([400, 'ACCOUNT_LINKING.INVALID_TOKEN']);
    for (const q of ['', '?account_linking_token=nope', `?account_linking_token=${token}&authorization_code=`]) {
      const res = await api.get(`/account-linking/complete${q}`);
      expect([res.status, res.body.code]).toEqual([400, 'REQUEST.VALIDATION_FAILED']);
    }

    // The Account Unlink API: a person of this Page, by PSID.
    const unlink = (body: unknown) => api.post(`/v25.0/me/unlink_accounts?access_token=${encodeURIComponent(c.app.pageToken)}`, body);
    expect((await unlink({ psid: d.psid })).body.error).toMatchObject({ code: 100, error_subcode: 2018001 });
    // Graph takes an id as a number too.
    expect((await unlink({ psid: Number(c.psid) })).body).toEqual({ result: 'unlink account success' });
    for (const body of [{}, { psid: 'x' }, { psid: -7 }, { psid: 1.5 }]) {
      const res = await unlink(body);
      expect([res.status, res.body.error?.code]).toEqual([400, 100]);
    }
    const otherPage = await api.post(`/v25.0/${d.page.id}/unlink_accounts?access_token=${encodeURIComponent(c.app.pageToken)}`, { psid: d.psid });
    expect(otherPage.status).toBeGreaterThanOrEqual(400);
    expect(otherPage.status).toBeLessThan(500);
    expect(linkingItems(c)).toEqual([]);
    expect(linkingItems(d)).toEqual([]);
  });

  it('sweeps expired tokens, used or not, in a worker process, and keeps the live ones working', async () => {
    const c = await setup();
    const tokenOf = async () => new URL((await start(c)).body.authorize_url).searchParams.get('account_linking_token')!;
    const live = await tokenOf();
    const usedLive = await tokenOf();
    expect((await complete(c.person, { account_linking_token: usedLive })).body).toEqual({ status: 'cancelled', linked: false });
    // Taps nobody tapped after (so the thread's own cleanup never ran): more than a batch of expired ones, some
    // used, as if left over from long ago.
    await t.db.query(
      `INSERT INTO account_linking_tokens (token_hash, thread_id, page_id, expires_at, completed_at)
       SELECT md5('expired-' || i) || md5('pad-' || i), $1, $2, $3::bigint - i, CASE WHEN i % 3 = 0 THEN $3::bigint - i - 60000 END
         FROM generate_series(1, 2500) AS i`,
      [c.thread.id, c.page.id, Date.now() - 1000],
    );
    const count = async (expired: boolean) => {
      const [{ n }] = await t.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM account_linking_tokens WHERE thread_id = $1 AND (expires_at <= $2) = $3`,
        [c.thread.id, Date.now(), expired],
      );
      return n;
    };
    expect([await count(true), await count(false)]).toEqual([2500, 2]);

    const sweeper = await t.spawnSibling('worker', { ACCOUNT_LINKING_SWEEP_INTERVAL_MS: '200' });
    try {
      await waitFor('the expired tokens swept', async () => (await count(true)) === 0);
    } finally {
      await sweeper.stop();
    }
    expect(await count(false)).toBe(2);
    // The live one still names the person, and the used one is still known as used.
    const lookup = await api.get(`/v25.0/me?access_token=${encodeURIComponent(c.app.pageToken)}&fields=recipient&account_linking_token=${live}`);
    expect(lookup.body).toEqual({ id: c.page.id, recipient: c.psid });
    const reused = await complete(c.person, { account_linking_token: usedLive, authorization_code: 'x' });
    expect([reused.status, reused.body.code]).toEqual([409, 'ACCOUNT_LINKING.TOKEN_USED']);
    expect((await complete(c.person, { account_linking_token: live, authorization_code: 'code' })).body).toEqual({ status: 'linked', linked: true });
  });

  it('sends Log In and Log Out buttons as Messenger takes them, and refuses a login page in clear text', async () => {
    const c = await setup();
    const history = await api.get(`/threads/${c.thread.id}/messages`, { token: c.person.token });
    const offer = history.body.data.find((m: any) => m.mid === c.mid);
    expect(offer.attachment.payload.buttons).toEqual([{ type: 'account_link', url: c.loginUrl }, { type: 'account_unlink' }]);
    const clear = await pageSays(api, c.app.pageToken, c.psid, {
      attachment: { type: 'template', payload: { template_type: 'button', text: 'Log in', buttons: [{ type: 'account_link', url: 'http://shop.example/login' }] } },
    });
    expect(clear.status).toBe(400);
    expect(clear.body.error).toMatchObject({ code: 100, message: expect.stringContaining('must be an https URL') });
  });
});

interface LoginPage {
  url: string;
  // The Page's token by page id (the login URL names its shop).
  pageTokens: Map<string, string>;
  lookups: { status: number; body: unknown }[];
  close(): Promise<void>;
}

// A business's login page: it asks the platform whose tap the token is (Graph, with the Page's token), "logs the
// person in" and sends them back to redirect_uri with an authorization code naming them.
async function startLoginPage(): Promise<LoginPage> {
  const page: LoginPage = { url: '', pageTokens: new Map(), lookups: [], close: async () => undefined };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = url.searchParams.get('account_linking_token') ?? '';
    const redirect = url.searchParams.get('redirect_uri') ?? '';
    const base = new URL(redirect).origin;
    const lookup = await request(
      `${base}/v25.0/me?fields=recipient&account_linking_token=${encodeURIComponent(token)}&access_token=${encodeURIComponent(page.pageTokens.get(url.searchParams.get('shop') ?? '') ?? '')}`,
    );
    const body = (await lookup.body.json()) as { recipient?: string };
    page.lookups.push({ status: lookup.statusCode, body });
    res.writeHead(302, { location: `${redirect}&authorization_code=code-for-${body.recipient}` }).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  page.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  page.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return page;
}
