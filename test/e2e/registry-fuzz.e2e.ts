import fc from 'fast-check';
import { httpClient, HttpClient } from '../support/http-client';
import { anyQueryText, anyText, expectNo5xx, fuzzBody } from '../support/fuzz-request';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { pageWithApp, Person, signupPerson } from '../factories/registry.factory';

// Random bodies and headers at every registry route: never a 5xx, always the route's error shape, nothing written on refusal.
describe('registry routes under random input', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let ctx: Awaited<ReturnType<typeof pageWithApp>>;
  // Its own person: the first well-formed logout revokes the token, and the owner's must live on.
  let leaving: Person;

  beforeAll(async () => {
    t = await startTestPlatform({ redis: false });
    api = httpClient(t.url);
    ctx = await pageWithApp(api);
    leaving = await signupPerson(api, 'Leaving');
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
  ];

  const body = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(
      fc.constantFrom('name', 'username', 'password', 'category', 'app_id', 'subscribed_fields', 'object', 'callback_url', 'verify_token', 'fields', 'access_token', 'require_appsecret_proof', '__proto__', 'constructor'),
      fc.oneof(anyText(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyText()), fc.jsonValue()),
    ),
  );
  const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-16', '');
  const query = fc.oneof(fc.constant(''), anyQueryText().map((s) => `?q=${encodeURIComponent(s)}&limit=${encodeURIComponent(s)}`), fc.constant('?limit=-1&offset=abc'));
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
