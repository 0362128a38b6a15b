import fc from 'fast-check';
import { httpClient, HttpClient } from '../support/http-client';
import { anyQueryText, anyText, expectNo5xx, fuzzBody } from '../support/fuzz-request';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { openThread } from '../factories/messaging.factory';
import { createPage, pageWithApp, Person, signupPerson } from '../factories/registry.factory';

// Random bodies and headers at every registry route: never a 5xx, always the route's error shape, nothing written on refusal.
describe('registry routes under random input', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let ctx: Awaited<ReturnType<typeof pageWithApp>>;
  // Its own person: the first well-formed logout revokes the token, and the owner's must live on.
  let leaving: Person;
  // A report on a Page of its own: resolving it may suspend that Page, and ctx's must stay open.
  let reportId: string;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
    ctx = await pageWithApp(api);
    leaving = await signupPerson(api, 'Leaving');
    const reporter = await signupPerson(api, 'Reporter');
    const thread = await openThread(api, reporter, (await createPage(api, reporter, 'Reported')).id);
    reportId = (await api.post(`/threads/${thread.id}/report`, { reason: 'spam' }, { token: reporter.token })).body.id;
  });
  afterAll(async () => t?.close());

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
