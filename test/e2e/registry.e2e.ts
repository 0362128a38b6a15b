import { createHmac } from 'node:crypto';
import { startBotReceiver, BotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { waitFor } from '../support/wait-for';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { connectApp, createApp, createPage, signupPerson } from '../factories/registry.factory';

describe('registry: people, pages, apps, subscriptions', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;

  beforeAll(async () => {
    t = await startTestPlatform();
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  it('signs a person up and logs them in; a password is never returned', async () => {
    const signup = await api.post('/auth/signup', { username: 'Ada_1', password: 'correct horse', name: 'Ada' });
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ id: expect.stringMatching(/^\d{15}$/), username: 'ada_1', name: 'Ada', access_token: expect.any(String) });
    expect(signup.text).not.toContain('correct horse');

    const dup = await api.post('/auth/signup', { username: 'ADA_1', password: 'another pass', name: 'Ada' });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('ACCOUNT.USERNAME_TAKEN');

    const wrong = await api.post('/auth/login', { username: 'ada_1', password: 'wrong password' });
    expect(wrong.status).toBe(401);
    const login = await api.post('/auth/login', { username: 'ada_1', password: 'correct horse' });
    expect(login.status).toBe(200);
    const me = await api.get('/me', { token: login.body.access_token });
    expect(me.body).toEqual({ id: signup.body.id, username: 'ada_1', name: 'Ada' });
  });

  it("limits login attempts per username (any case, existing or not): guesses past the burst get 429 with Retry-After, other usernames don't", async () => {
    const p = await signupPerson(api, 'Guessed');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await api.post('/auth/login', { username: p.username, password: `guess ${i}` })).status);
    expect(statuses).toEqual(Array(10).fill(401));
    // Past LOGIN_ATTEMPTS_BURST (10), even the right password waits: a guess that happens to be right is no different.
    const limited = await api.post('/auth/login', { username: p.username.toUpperCase(), password: 'a-long-password' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'AUTH.LOGIN_RATE_LIMITED', requestId: expect.any(String) });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.text).not.toContain('access_token');
    // A username no one has is limited the same way (its answers say nothing about whether it exists).
    for (let i = 0; i < 10; i++) await api.post('/auth/login', { username: 'nobody_here', password: `guess ${i}` });
    expect((await api.post('/auth/login', { username: 'nobody_here', password: 'guess' })).status).toBe(429);
    // Someone else logs in as ever.
    const other = await signupPerson(api, 'Other');
    expect((await api.post('/auth/login', { username: other.username, password: 'a-long-password' })).status).toBe(200);
  });

  it("refuses a blank name for a person or a Page (what the other side sees them as), naming the field", async () => {
    const person = await api.post('/auth/signup', { username: 'blank_name', password: 'a-long-password', name: ' \t ' });
    expect([person.status, person.body.code, person.body.details?.[0]?.field]).toEqual([400, 'REQUEST.VALIDATION_FAILED', 'name']);
    const owner = await signupPerson(api);
    const page = await api.post('/pages', { name: '   ' }, { token: owner.token });
    expect([page.status, page.body.code, page.body.details?.[0]?.field]).toEqual([400, 'REQUEST.VALIDATION_FAILED', 'name']);
    // Spaces inside a name are fine.
    expect((await api.post('/pages', { name: ' Acme Shoes ' }, { token: owner.token })).status).toBe(201);
  });

  it('stores tokens only as SHA-256 hashes', async () => {
    const p = await signupPerson(api);
    const rows = await t.db.query('SELECT token_hash FROM access_tokens');
    const hashes: string[] = rows.map((r: { token_hash: string }) => r.token_hash);
    expect(hashes).toContain(require('node:crypto').createHash('sha256').update(p.token).digest('hex'));
    expect(hashes).not.toContain(p.token);
  });

  it('creates a page, finds it by name, and lists it in /me/accounts', async () => {
    const owner = await signupPerson(api);
    const created = await api.post('/pages', { name: 'Zebra Shoes', category: 'Retail' }, { token: owner.token });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.stringMatching(/^\d+$/), name: 'Zebra Shoes', category: 'Retail' });
    const found = await api.get('/pages?q=zebra', { token: owner.token });
    expect(found.body.data.map((p: { id: string }) => p.id)).toContain(created.body.id);
    const accounts = await api.get(`/v25.0/me/accounts?access_token=${owner.token}`);
    expect(accounts.status).toBe(200);
    expect(accounts.body.data).toEqual([{ id: created.body.id, name: 'Zebra Shoes', category: 'Retail' }]);
  });

  it('runs the whole registry flow: app, connection, subscribed_apps, verified webhook subscription', async () => {
    const owner = await signupPerson(api);
    const page = await createPage(api, owner);
    const app = await createApp(api, owner);
    expect(app.secret).toMatch(/^[0-9a-f]{32}$/);
    const pageToken = await connectApp(api, owner, page.id, app.id, ['messages']);

    const fields = await api.post(`/v25.0/me/subscribed_apps`, undefined, {
      form: { access_token: pageToken, subscribed_fields: 'messages,messaging_postbacks' },
    });
    expect(fields.status).toBe(200);
    expect(fields.body).toEqual({ success: true });
    const listed = await api.get(`/v25.0/${page.id}/subscribed_apps?access_token=${pageToken}`);
    expect(listed.body.data).toEqual([{ id: app.id, name: 'Bot', subscribed_fields: ['messages', 'messaging_postbacks'] }]);

    const unknownField = await api.post(`/v25.0/me/subscribed_apps?access_token=${pageToken}`, { subscribed_fields: 'messages,nope' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatchObject({ code: 100, type: 'OAuthException', fbtrace_id: expect.any(String) });
    expect(unknownField.body.error.message).toContain('nope');

    const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: 'verify-me',
      fields: 'messages,messaging_postbacks',
    });
    expect(sub.status).toBe(200);
    expect(sub.body).toEqual({ success: true });
    const subs = await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(app.token)}`);
    expect(subs.body.data).toEqual([
      {
        object: 'page',
        callback_url: bot.url,
        fields: [
          { name: 'messages', version: 'v25.0' },
          { name: 'messaging_postbacks', version: 'v25.0' },
        ],
        active: true,
      },
    ]);

    const badToken = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: 'not-the-token',
      fields: 'messages',
    });
    expect(badToken.status).toBe(400);
    expect(badToken.body.error.code).toBe(2200);
    expect(badToken.body.error.message).toContain('403');
  });

  it('hands out the app token for an app id and secret, as Graph\'s client-credentials grant does', async () => {
    const owner = await signupPerson(api);
    const app = await createApp(api, owner);
    for (const path of ['/v25.0/oauth/access_token', '/oauth/access_token']) {
      const got = await api.get(`${path}?client_id=${app.id}&client_secret=${app.secret}&grant_type=client_credentials`);
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ access_token: app.token, token_type: 'bearer' });
      expect((await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(got.body.access_token)}`)).status).toBe(200);
    }
    const wrong = await api.get(`/oauth/access_token?client_id=${app.id}&client_secret=${'0'.repeat(32)}&grant_type=client_credentials`);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: 1, type: 'OAuthException', message: 'Error validating client secret.' });
    const grant = await api.get(`/oauth/access_token?client_id=${app.id}&client_secret=${app.secret}&grant_type=password`);
    expect(grant.status).toBe(400);
    expect(grant.body.error.code).toBe(100);
  });

  it("takes the subscription routes' params in the query string with Graph's transport params, and deletes single fields", async () => {
    const owner = await signupPerson(api);
    const page = await createPage(api, owner);
    const app = await createApp(api, owner);
    const pageToken = await connectApp(api, owner, page.id, app.id, ['messages']);
    const time = Math.floor(Date.now() / 1000);
    const proof = createHmac('sha256', app.secret).update(`${pageToken}|${time}`).digest('hex');
    const timed = `access_token=${pageToken}&appsecret_time=${time}&appsecret_proof=${proof}&pretty=0`;
    const fields = await api.post(`/v25.0/me/subscribed_apps?subscribed_fields=messages,message_reads&${timed}`, undefined);
    expect(fields.status).toBe(200);
    const listed = await api.get(`/v25.0/me/subscribed_apps?${timed}&format=json`);
    expect(listed.status).toBe(200);
    expect(listed.body.data[0].subscribed_fields).toEqual(['messages', 'message_reads']);

    const query = new URLSearchParams({
      object: 'page',
      callback_url: bot.url,
      verify_token: 'verify-me',
      fields: 'messages,message_reads,message_deliveries',
      access_token: app.token,
      pretty: '0',
    });
    const sub = await api.post(`/v25.0/${app.id}/subscriptions?${query}`, undefined);
    expect(sub.status).toBe(200);
    const subs = () => api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(app.token)}&pretty=1`);
    expect((await subs()).body.data[0].fields.map((f: { name: string }) => f.name)).toEqual(['messages', 'message_reads', 'message_deliveries']);

    const token = encodeURIComponent(app.token);
    const unknown = await api.delete(`/v25.0/${app.id}/subscriptions?object=page&fields=nope&access_token=${token}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe(100);
    const one = await api.delete(`/v25.0/${app.id}/subscriptions?object=page&fields=message_reads&access_token=${token}`);
    expect(one.body).toEqual({ success: true });
    const left = (await subs()).body.data;
    expect(left).toHaveLength(1);
    expect(left[0]).toMatchObject({ callback_url: bot.url, active: true });
    expect(left[0].fields.map((f: { name: string }) => f.name)).toEqual(['messages', 'message_deliveries']);
    expect((await api.delete(`/v25.0/${app.id}/subscriptions?object=page&fields=messages,message_deliveries&access_token=${token}`)).status).toBe(200);
    expect((await subs()).body.data).toEqual([]);
  });

  it('refuses a callback that is not https when insecure webhooks are off', async () => {
    const strict = await startTestPlatform({ env: { ALLOW_INSECURE_WEBHOOKS: 'false', OUTBOUND_ALLOWLIST: '' }, redis: false });
    try {
      const sapi = httpClient(strict.url);
      const owner = await signupPerson(sapi);
      const app = await createApp(sapi, owner);
      const res = await sapi.post(`/v25.0/${app.id}/subscriptions`, {
        access_token: app.token,
        object: 'page',
        callback_url: bot.url,
        verify_token: 'verify-me',
        fields: 'messages',
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(2200);
      expect(bot.received.filter((r) => r.method === 'GET')).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it('rotates an app secret: old and new both work during the grace period', async () => {
    const owner = await signupPerson(api);
    const app = await createApp(api, owner);
    const rotated = await api.post(`/apps/${app.id}/secret/rotate`, undefined, { token: owner.token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(app.secret);
    for (const secret of [app.secret, rotated.body.secret]) {
      const res = await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(`${app.id}|${secret}`)}`);
      expect(res.status).toBe(200);
    }
    const forged = await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(`${app.id}|${'0'.repeat(32)}`)}`);
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe(190);
  });

  describe('who may act', () => {
    it('refuses unauthenticated calls with 401 in each route shape', async () => {
      const rest = await api.post('/pages', { name: 'x' });
      expect(rest.status).toBe(401);
      expect(rest.body).toMatchObject({ statusCode: 401, code: 'AUTH.UNAUTHENTICATED', requestId: expect.any(String) });
      const graph = await api.get('/v25.0/me/accounts');
      expect(graph.status).toBe(401);
      expect(graph.body.error.code).toBe(190);
      const expired = await api.get('/me', { token: 'sbu_notarealtoken' });
      expect(expired.status).toBe(401);
    });

    it('lets a person manage only their own pages and apps', async () => {
      const alice = await signupPerson(api);
      const mallory = await signupPerson(api);
      const page = await createPage(api, alice);
      const app = await createApp(api, alice);
      const malApp = await createApp(api, mallory);
      expect((await api.post(`/pages/${page.id}/apps`, { app_id: malApp.id, subscribed_fields: ['messages'] }, { token: mallory.token })).status).toBe(403);
      expect((await api.get(`/pages/${page.id}/apps`, { token: mallory.token })).status).toBe(403);
      expect((await api.post(`/apps/${app.id}/secret/rotate`, undefined, { token: mallory.token })).status).toBe(403);
      expect((await api.get(`/apps/${app.id}`, { token: mallory.token })).status).toBe(403);
    });

    it("lets a page's admin connect only an app they own: another owner's bot gets no events from it and lends it no token", async () => {
      const alice = await signupPerson(api);
      const bob = await signupPerson(api);
      const alicesApp = await createApp(api, alice);
      const bobsPage = await createPage(api, bob);
      const taken = await api.post(`/pages/${bobsPage.id}/apps`, { app_id: alicesApp.id, subscribed_fields: ['messages'] }, { token: bob.token });
      expect(taken.status).toBe(403);
      expect(taken.body.code).toBe('APP.NOT_OWNER');
      expect(taken.body.page_access_token).toBeUndefined();
      expect((await api.get(`/pages/${bobsPage.id}/apps`, { token: bob.token })).body.data).toEqual([]);
      // Made an admin of Bob's page, Alice connects her own app herself.
      const added = await api.post(`/pages/${bobsPage.id}/admins`, { username: alice.username.toUpperCase() }, { token: bob.token });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ user_id: alice.id, username: alice.username });
      const connected = await api.post(`/pages/${bobsPage.id}/apps`, { app_id: alicesApp.id, subscribed_fields: ['messages'] }, { token: alice.token });
      expect(connected.status).toBe(201);
      expect((await api.get(`/v25.0/me?access_token=${connected.body.page_access_token}`)).body.id).toBe(bobsPage.id);
      // Removed as an admin, Alice may still take her own app off Bob's page; its token then stops working.
      expect((await api.delete(`/pages/${bobsPage.id}/admins/${alice.id}`, { token: bob.token })).status).toBe(204);
      expect((await api.get(`/pages/${bobsPage.id}/apps`, { token: alice.token })).status).toBe(403);
      expect((await api.delete(`/pages/${bobsPage.id}/apps/${alicesApp.id}`, { token: alice.token })).status).toBe(204);
      expect((await api.get(`/v25.0/me?access_token=${connected.body.page_access_token}`)).status).toBe(401);
    });

    it("manages a page's admins: only admins list, add and remove them, and the last one stays", async () => {
      const owner = await signupPerson(api);
      const helper = await signupPerson(api);
      const stranger = await signupPerson(api);
      const page = await createPage(api, owner);
      expect((await api.get(`/pages/${page.id}/admins`, { token: stranger.token })).status).toBe(403);
      expect((await api.post(`/pages/${page.id}/admins`, { username: stranger.username }, { token: stranger.token })).status).toBe(403);
      const missing = await api.post(`/pages/${page.id}/admins`, { username: 'no-such-person-here' }, { token: owner.token });
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('ACCOUNT.NOT_FOUND');
      expect((await api.post(`/pages/${page.id}/admins`, { username: helper.username }, { token: owner.token })).status).toBe(201);
      // Twice is once.
      expect((await api.post(`/pages/${page.id}/admins`, { username: helper.username }, { token: owner.token })).status).toBe(201);
      const listed = await api.get(`/pages/${page.id}/admins`, { token: helper.token });
      expect(listed.status).toBe(200);
      expect(listed.body.data.map((a: { user_id: string }) => a.user_id)).toEqual([owner.id, helper.id]);
      expect((await api.get('/pages/mine', { token: helper.token })).body.data.map((p: { id: string }) => p.id)).toContain(page.id);
      expect((await api.delete(`/pages/${page.id}/admins/${stranger.id}`, { token: owner.token })).status).toBe(404);
      // The helper, added later, can't remove the owner; the owner leaves on their own.
      const coup = await api.delete(`/pages/${page.id}/admins/${owner.id}`, { token: helper.token });
      expect(coup.status).toBe(403);
      expect(coup.body.code).toBe('PAGE.ADMIN_SENIOR');
      expect((await api.delete(`/pages/${page.id}/admins/${owner.id}`, { token: owner.token })).status).toBe(204);
      const last = await api.delete(`/pages/${page.id}/admins/${helper.id}`, { token: helper.token });
      expect(last.status).toBe(409);
      expect(last.body.code).toBe('PAGE.LAST_ADMIN');
      expect((await api.get(`/pages/${page.id}/admins`, { token: owner.token })).status).toBe(403);
    });

    it('lets a page token act only for its page and an app token only for its app', async () => {
      const a = await signupPerson(api);
      const pageX = await createPage(api, a, 'X');
      const pageY = await createPage(api, a, 'Y');
      const app = await createApp(api, a);
      const other = await createApp(api, a);
      const tokenX = await connectApp(api, a, pageX.id, app.id);
      const onY = await api.get(`/v25.0/${pageY.id}/subscribed_apps?access_token=${tokenX}`);
      expect(onY.status).toBe(403);
      expect(onY.body.error.code).toBe(200);
      const appOnOther = await api.get(`/v25.0/${other.id}/subscriptions?access_token=${encodeURIComponent(app.token)}`);
      expect(appOnOther.status).toBe(403);
      expect(appOnOther.body.error.code).toBe(200);
      const personOnPageRoute = await api.get(`/v25.0/me/subscribed_apps?access_token=${a.token}`);
      expect(personOnPageRoute.status).toBe(403);
    });

    it('guards /admin with ADMIN_TOKEN, and suspension cuts a page token off until restored', async () => {
      const a = await signupPerson(api);
      const page = await createPage(api, a);
      const app = await createApp(api, a);
      const token = await connectApp(api, a, page.id, app.id);
      expect((await api.get('/admin/pages', { token: a.token })).status).toBe(401);
      const list = await api.get('/admin/pages?limit=500', { token: TEST_ADMIN_TOKEN });
      expect(list.status).toBe(200);
      expect(list.body.data.map((p: { id: string }) => p.id)).toContain(page.id);
      expect((await api.post(`/admin/pages/${page.id}/suspend`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(200);
      expect((await api.get(`/v25.0/me/subscribed_apps?access_token=${token}`)).status).toBe(401);
      expect((await api.get(`/pages?q=${encodeURIComponent(page.name)}`, { token: a.token })).body.data.map((p: { id: string }) => p.id)).not.toContain(page.id);
      expect((await api.post(`/admin/pages/${page.id}/restore`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(200);
      expect((await api.get(`/v25.0/me/subscribed_apps?access_token=${token}`)).status).toBe(200);
      expect((await api.post(`/admin/apps/${app.id}/suspend`, undefined, { token: TEST_ADMIN_TOKEN })).status).toBe(200);
      expect((await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(app.token)}`)).status).toBe(401);
    });

    it("tells a Page's apps of the operators' warning, block and unblock (messaging_policy_enforcement), once each", async () => {
      const a = await signupPerson(api);
      const page = await createPage(api, a);
      const told = await createApp(api, a, 'Told');
      const deaf = await createApp(api, a, 'Deaf');
      const bot = await startBotReceiver('verify-me');
      try {
        bot.secrets.push(told.secret, deaf.secret);
        for (const [app, fields] of [[told, ['messages', 'messaging_policy_enforcement']], [deaf, ['messages']]] as const) {
          await connectApp(api, a, page.id, app.id, [...fields]);
          const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
            access_token: app.token, object: 'page', callback_url: bot.url, verify_token: 'verify-me', fields: fields.join(','),
          });
          expect(sub.status).toBe(200);
        }
        const admin = { token: TEST_ADMIN_TOKEN };
        const warn = await api.post(`/admin/pages/${page.id}/warn`, { reason: 'Tags used for promotions' }, admin);
        expect(warn.body).toEqual({ id: page.id, suspended: false, changed: true });
        expect((await api.post(`/admin/pages/${page.id}/suspend`, { reason: 'Spam' }, admin)).body).toEqual({ id: page.id, suspended: true, changed: true });
        // Already blocked: nothing changes, nobody is told again.
        expect((await api.post(`/admin/pages/${page.id}/suspend`, undefined, admin)).body.changed).toBe(false);
        expect((await api.post(`/admin/pages/${page.id}/restore`, undefined, admin)).body).toEqual({ id: page.id, suspended: false, changed: true });
        expect((await api.post(`/admin/pages/${page.id}/restore`, undefined, admin)).body.changed).toBe(false);

        const notices = await waitFor('three notices', () => {
          const items = bot.received.flatMap((r) => JSON.parse(r.body.toString()).entry.flatMap((e: any) => e.messaging ?? []));
          return items.length >= 3 ? items : undefined;
        });
        expect(bot.received.every((r) => r.signatureValid)).toBe(true);
        expect(notices).toEqual([
          { recipient: { id: page.id }, timestamp: expect.any(Number), policy_enforcement: { action: 'warning', reason: 'Tags used for promotions' } },
          { recipient: { id: page.id }, timestamp: expect.any(Number), policy_enforcement: { action: 'block', reason: 'Spam' } },
          { recipient: { id: page.id }, timestamp: expect.any(Number), policy_enforcement: { action: 'unblock' } },
        ]);
        await new Promise((r) => setTimeout(r, 300));
        expect(bot.received.map((r) => r.headers['x-hub-signature-256'])).toHaveLength(bot.received.length);
        expect(bot.received.flatMap((r) => JSON.parse(r.body.toString()).entry.flatMap((e: any) => e.messaging ?? []))).toHaveLength(3);
        // Only the subscribed app heard: every notice was signed with its secret.
        const signedBy = (body: Buffer) => `sha256=${createHmac('sha256', told.secret).update(body).digest('hex')}`;
        expect(bot.received.every((r) => r.headers['x-hub-signature-256'] === signedBy(r.body))).toBe(true);
        for (const bad of [{}, { reason: '' }, { reason: '  ' }, { reason: 'x'.repeat(1001) }, { reason: 5 }]) {
          expect((await api.post(`/admin/pages/${page.id}/warn`, bad, admin)).status).toBe(400);
        }
        expect((await api.post(`/admin/pages/${page.id}/warn`, { reason: 'x' }, { token: a.token })).status).toBe(401);
        expect((await api.post('/admin/pages/999999999/warn', { reason: 'x' }, admin)).status).toBe(404);
      } finally {
        await bot.close();
      }
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON, unknown fields, wrong types and oversize bodies with 4xx in the route shape', async () => {
      const p = await signupPerson(api);
      const malformed = await api.post('/pages', undefined, { token: p.token, raw: '{"name":', headers: { 'content-type': 'application/json' } });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toMatchObject({ statusCode: 400, code: 'REQUEST.INVALID_JSON', requestId: expect.any(String) });
      const unknown = await api.post('/pages', { name: 'ok', evil: true }, { token: p.token });
      expect(unknown.status).toBe(400);
      expect(unknown.body.details).toEqual([expect.objectContaining({ field: 'evil', rule: 'whitelistValidation' })]);
      const wrongType = await api.post('/pages', { name: 42 }, { token: p.token });
      expect(wrongType.status).toBe(400);
      expect(wrongType.body.details.map((d: { field: string }) => d.field)).toContain('name');
      const huge = await api.post('/pages', { name: 'x'.repeat(2_000_000) }, { token: p.token });
      expect(huge.status).toBe(413);
      expect(huge.body.code).toBe('REQUEST.TOO_LARGE');
      const graphMalformed = await api.post(`/v25.0/me/subscribed_apps`, undefined, { raw: '{', headers: { 'content-type': 'application/json' } });
      expect(graphMalformed.status).toBe(400);
      expect(graphMalformed.body.error).toMatchObject({ code: 100, fbtrace_id: expect.any(String) });
    });

    it('refuses null for a required field on PATCH instead of failing in the database', async () => {
      const p = await signupPerson(api);
      const app = await createApp(api, p);
      const res = await api.patch(`/apps/${app.id}`, { name: null }, { token: p.token });
      expect(res.status).toBe(400);
      expect(res.body.details.map((d: { field: string }) => d.field)).toContain('name');
      expect((await api.get(`/apps/${app.id}`, { token: p.token })).body.name).toBe('Bot');
    });

    it('carries a request id on every response, and keeps a sane one from the caller', async () => {
      const res = await api.get('/health', { headers: { 'x-request-id': 'abc-123' } });
      expect(res.headers['x-request-id']).toBe('abc-123');
      const forged = await api.get('/health', { headers: { 'x-request-id': 'bad id with spaces' } });
      expect(forged.headers['x-request-id']).not.toContain('bad');
      const missing = await api.get('/nowhere');
      expect(missing.status).toBe(404);
      const twoSegments = await api.get('/foo/bar');
      expect(twoSegments.status).toBe(404);
      expect(twoSegments.body.code).toBe('NOT_FOUND');
      expect(missing.body.requestId).toBe(missing.headers['x-request-id']);
    });

    it("answers an unknown route without echoing its query, which may carry an access token", async () => {
      const plain = await api.get('/nowhere?access_token=sbu_secret-in-the-query&x=1');
      expect([plain.status, plain.body.code, plain.body.message]).toEqual([404, 'NOT_FOUND', 'Cannot GET /nowhere']);
      // A Graph path (GET on a POST-only route) answers Graph's envelope, without the page token either.
      const graph = await api.get('/v25.0/me/messages?access_token=sbp_secret-in-the-query');
      expect(graph.status).toBe(404);
      expect(graph.body.error.message).toBe('Cannot GET /v25.0/me/messages');
      expect(graph.text).not.toContain('secret-in-the-query');
      const oddMethod = await api.call('M-SEARCH', '/nowhere?access_token=sbu_secret-in-the-query');
      expect([oddMethod.status, oddMethod.text.includes('secret-in-the-query')]).toEqual([404, false]);
    });

    it('answers an internal failure 500 with only its request id, and logs the stack under that id', async () => {
      const owner = await signupPerson(api);
      // A column the page insert needs, gone for a moment: the route fails inside Postgres.
      await t.db.query('ALTER TABLE pages RENAME COLUMN category TO category_gone');
      try {
        const failed = await api.post('/pages', { name: 'Broken Shoes', category: 'Retail' }, { token: owner.token });
        expect(failed.status).toBe(500);
        expect(failed.body).toEqual({ statusCode: 500, code: 'INTERNAL', message: 'Internal server error', requestId: failed.headers['x-request-id'] });
        expect(failed.text).not.toContain('category');
        const line = await waitFor('the failure logged under its request id', () =>
          t.logs.join('').split('\n').find((l) => l.includes(`request ${failed.body.requestId}: `)),
        );
        expect(JSON.parse(line)).toMatchObject({ level: 50, context: 'Errors', msg: expect.stringContaining('category') });
      } finally {
        await t.db.query('ALTER TABLE pages RENAME COLUMN category_gone TO category');
      }
    });
  });
});
