import fc from 'fast-check';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { anyQueryText, anyText, expectNo5xx, fuzzBody, fuzzExamples, RouteExample } from '../support/fuzz-request';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { openThread, personSays } from '../factories/messaging.factory';
import { createApp, createPage, pageWithApp, Person, signupPerson } from '../factories/registry.factory';

// Random bodies and headers at every registry route: never a 5xx, always the route's error shape, nothing written on refusal.
describe('registry routes under random input', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let ctx: Awaited<ReturnType<typeof pageWithApp>>;
  // Its own person: the first well-formed logout revokes the token, and the owner's must live on.
  let leaving: Person;
  // A report on a Page of its own: resolving it may suspend that Page, and ctx's must stay open.
  let reportId: string;
  // A conversation on ctx's Page, for the Page Inbox's routes.
  let inboxThreadId: string;
  // A webhook endpoint that answers Graph's verification, and a picture for personas (both fetched by the platform).
  let bot: BotReceiver;
  let images: http.Server;
  let pictureUrl: string;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
    ctx = await pageWithApp(api);
    leaving = await signupPerson(api, 'Leaving');
    const reporter = await signupPerson(api, 'Reporter');
    const thread = await openThread(api, reporter, (await createPage(api, reporter, 'Reported')).id);
    reportId = (await api.post(`/threads/${thread.id}/report`, { reason: 'spam' }, { token: reporter.token })).body.id;
    const customer = await signupPerson(api, 'Customer');
    inboxThreadId = (await openThread(api, customer, ctx.page.id)).id;
    await personSays(api, customer, inboxThreadId, 'hello?');
    bot = await startBotReceiver('v');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c84' } }).png().toBuffer();
    images = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    pictureUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/sam.png`;
  });
  afterAll(async () => {
    await bot?.close();
    await new Promise((resolve) => images?.close(resolve));
    await t?.close();
  });

  const routes = () => [
    { method: 'POST', path: '/auth/signup', token: undefined },
    { method: 'POST', path: '/auth/login', token: undefined },
    { method: 'POST', path: '/auth/logout', token: leaving.token },
    { method: 'POST', path: '/pages', token: ctx.owner.token },
    { method: 'GET', path: '/pages', token: ctx.owner.token },
    { method: 'POST', path: `/pages/${ctx.page.id}/apps`, token: ctx.owner.token },
    { method: 'POST', path: `/pages/${ctx.page.id}/admins`, token: ctx.owner.token },
    { method: 'GET', path: `/pages/${ctx.page.id}/admins`, token: ctx.owner.token },
    { method: 'DELETE', path: `/pages/${ctx.page.id}/admins/${leaving.id}`, token: ctx.owner.token },
    { method: 'POST', path: '/apps', token: ctx.owner.token },
    { method: 'PATCH', path: `/apps/${ctx.app.id}`, token: ctx.owner.token },
    { method: 'POST', path: `/v25.0/me/subscribed_apps`, token: ctx.pageToken },
    { method: 'POST', path: `/v25.0/${ctx.app.id}/subscriptions`, token: ctx.app.token },
    { method: 'GET', path: `/v25.0/${ctx.app.id}/subscriptions`, token: ctx.app.token },
    { method: 'GET', path: `/v25.0/me`, token: ctx.pageToken },
    { method: 'GET', path: '/admin/pages', token: 'garbage' },
    { method: 'GET', path: '/admin/pages', token: TEST_ADMIN_TOKEN },
    { method: 'GET', path: '/admin/reports', token: TEST_ADMIN_TOKEN },
    { method: 'GET', path: `/admin/reports/${reportId}`, token: TEST_ADMIN_TOKEN },
    { method: 'GET', path: '/admin/reports/not-a-report', token: TEST_ADMIN_TOKEN },
    { method: 'POST', path: `/admin/reports/${reportId}/resolve`, token: TEST_ADMIN_TOKEN },
    { method: 'POST', path: '/admin/reports/999999999999999/resolve', token: TEST_ADMIN_TOKEN },
  ];

  const body = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(
      fc.constantFrom('name', 'username', 'password', 'category', 'app_id', 'subscribed_fields', 'object', 'callback_url', 'verify_token', 'fields', 'access_token', 'require_appsecret_proof', 'action', 'note', 'reason', 'operator', '__proto__', 'constructor'),
      fc.oneof(anyText(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyText()), fc.jsonValue(), fc.constantFrom('dismiss', 'warn', 'suspend', 'ban')),
    ),
  );
  const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-16', '');
  const query = fc.oneof(fc.constant(''), anyQueryText().map((s) => `?q=${encodeURIComponent(s)}&limit=${encodeURIComponent(s)}`), fc.constant('?limit=-1&offset=abc'),
    anyQueryText().map((s) => `?status=${encodeURIComponent(s)}&page_id=${encodeURIComponent(s)}&cursor=${encodeURIComponent(s)}&messages=${encodeURIComponent(s)}`),
    fc.constantFrom('?status=dismissed&cursor=1.2', '?status=open&page_id=1&limit=200', '?messages=100'));
  const auth = fc.oneof(fc.constant(undefined), fc.string(), fc.constant('Bearer '), fc.constant('Bearer sbu_'), fc.string().map((s) => `Bearer ${s}`));

  // Bodies each route takes, with one place changed: every null and removal in turn, then random hostile values.
  it('never answers 5xx to a body the route takes with one thing changed, and writes nothing when it refuses', async () => {
    const owner = ctx.owner.token;
    const inbox = `/pages/${ctx.page.id}/inbox/${inboxThreadId}`;
    // Someone with no right to each call: a person who is no admin of the Page and owns no app of it, another app,
    // and, on the operators' routes, a person's token.
    const outsider = await signupPerson(api, 'Outsider');
    const otherApp = await createApp(api, outsider, 'Outsider bot');
    const stranger = { token: outsider.token };
    // A Page an operator may suspend, and an app of the owner's to connect, without touching ctx's.
    const spare = await createPage(api, ctx.owner, 'Spare');
    const spareApp = await createApp(api, ctx.owner, 'Spare bot');
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const examples: RouteExample[] = [
      { method: 'POST', path: '/auth/signup', body: { username: 'fuzzed', password: 'a-long-password', name: 'Fuzzed' } },
      { method: 'POST', path: '/auth/login', body: { username: ctx.owner.username, password: 'a-long-password' } },
      { method: 'POST', path: '/pages', token: owner, body: { name: 'Fuzz shop', category: 'Shopping' } },
      { method: 'POST', path: '/apps', token: owner, body: { name: 'Fuzz bot' } },
      { method: 'PATCH', path: `/apps/${ctx.app.id}`, token: owner, stranger, body: { name: 'Renamed', require_appsecret_proof: false } },
      { method: 'POST', path: `/pages/${ctx.page.id}/admins`, token: owner, stranger, body: { username: leaving.username } },
      { method: 'PUT', path: `/pages/${ctx.page.id}/apps/${ctx.app.id}/fields`, token: owner, stranger, body: { subscribed_fields: ['messages', 'messaging_postbacks'] } },
      { method: 'POST', path: `/pages/${spare.id}/apps`, token: owner, stranger, body: { app_id: spareApp.id, subscribed_fields: ['messages'] } },
      { method: 'POST', path: `/apps/${ctx.app.id}/replay`, token: owner, stranger, body: { since, until: new Date().toISOString(), status: 'failed' } },
      { method: 'POST', path: `/v25.0/me/subscribed_apps?access_token=${encodeURIComponent(ctx.pageToken)}`, body: { subscribed_fields: 'messages,message_reads' } },
      {
        method: 'POST',
        // An app on no Page: a subscription of ctx's app would start deliveries that write behind the test's counts.
        path: `/v25.0/${otherApp.id}/subscriptions?access_token=${encodeURIComponent(otherApp.token)}`,
        stranger: { path: `/v25.0/${otherApp.id}/subscriptions?access_token=${encodeURIComponent(ctx.app.token)}` },
        body: { object: 'page', callback_url: bot.url, verify_token: 'v', fields: 'messages' },
      },
      { method: 'PATCH', path: inbox, token: owner, stranger, body: { done: true, last_seq: 1, assignee_id: ctx.owner.id } },
      { method: 'POST', path: `${inbox}/messages`, token: owner, stranger, body: { text: 'On it', client_message_id: 'inbox-1' } },
      { method: 'POST', path: `${inbox}/notes`, token: owner, stranger, body: { text: 'VIP' } },
      { method: 'POST', path: `${inbox}/typing`, token: owner, stranger, body: { on: true } },
      { method: 'POST', path: `${inbox}/read`, token: owner, stranger, body: {} },
      { method: 'POST', path: `/pages/${ctx.page.id}/inbox/personas`, token: owner, stranger, body: { name: 'Sam', profile_picture_url: pictureUrl } },
      {
        method: 'POST',
        path: `/pages/${ctx.page.id}/scripts`,
        token: owner,
        stranger,
        body: { source: 'export default { onMessage() {} }', subscribed_fields: ['messages'], allowed_hosts: ['api.example.com'], limits: { cpuMs: 50, maxSends: 2 } },
      },
      {
        method: 'POST',
        path: `/pages/${ctx.page.id}/scripts/1/test`,
        token: owner,
        stranger,
        body: { event: { sender: { id: '1' }, recipient: { id: ctx.page.id }, timestamp: 1, message: { mid: 'm_1', text: 'hi' } } },
      },
      { method: 'POST', path: `/admin/reports/${reportId}/resolve`, token: TEST_ADMIN_TOKEN, stranger: { token: owner }, body: { action: 'dismiss', note: 'fine', operator: 'ops' } },
      { method: 'POST', path: `/admin/pages/${ctx.page.id}/warn`, token: TEST_ADMIN_TOKEN, stranger: { token: owner }, body: { reason: 'Tags used for promotions' } },
      { method: 'POST', path: `/admin/pages/${spare.id}/suspend`, token: TEST_ADMIN_TOKEN, stranger: { token: owner }, body: { reason: 'Spam' } },
      // Last: a primary receiver takes the Page Inbox's control of its threads away.
      { method: 'PUT', path: `/pages/${ctx.page.id}/apps/${ctx.app.id}/handover-role`, token: owner, stranger, body: { role: 'primary' } },
    ];
    await fuzzExamples(t.db, api, examples, 300);
  }, 240_000);

  it('never answers 5xx and writes nothing when it refuses', async () => {
    const all = routes();
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: all.length - 1 }), body, contentType, query, auth, fc.boolean(), async (i, b, ct, q, authz, useToken) => {
        const route = all[i];
        const headers: Record<string, string> = {};
        if (ct) headers['content-type'] = ct;
        const authHeader = useToken && route.token ? `Bearer ${route.token}` : authz;
        if (authHeader !== undefined && /^[\t\x20-\x7e]*$/.test(authHeader)) headers.authorization = authHeader;
        const raw = route.method !== 'GET' ? fuzzBody(ct, b) : undefined;
        await expectNo5xx(t.db, api, route.method, `${route.path}${q}`, { headers, raw });
      }),
      { numRuns: 300 },
    );
  }, 240_000);
});
