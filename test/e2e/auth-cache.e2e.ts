// Verified tokens are cached per process (AUTH_CACHE_TTL_MS); a revocation must reach every process at once,
// not when the cache lapses. The TTL here is a minute, so only the flush can explain a refusal within seconds.
import { httpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { pageWithApp } from '../factories/registry.factory';

describe('credential cache', () => {
  let t: TestPlatform;
  const env = { AUTH_CACHE_TTL_MS: '60000' };

  beforeAll(async () => {
    t = await startTestPlatform({ env });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a disconnected app’s page token stops working on every api process at once', async () => {
    const sibling = await t.spawnSibling('api', env);
    try {
      const a = httpClient(t.url);
      const b = httpClient(sibling.url);
      const { owner, page, app, pageToken } = await pageWithApp(a);
      // Authenticated, then refused for the unknown recipient: code 100. A bad token would be 190.
      const send = (api: typeof a) =>
        api.post(`/v25.0/me/messages?access_token=${pageToken}`, { recipient: { id: '1' }, messaging_type: 'RESPONSE', message: { text: 'x' } });
      for (const api of [a, b]) {
        const res = await send(api);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe(100);
      }
      // Both processes now hold the token in their caches.
      const gone = await a.delete(`/pages/${page.id}/apps/${app.id}`, { token: owner.token });
      expect(gone.status).toBeLessThan(300);
      // The process that revoked it refuses at once.
      const here = await send(a);
      expect(here.body.error.code).toBe(190);
      // The other one as soon as the flush arrives, long before its cache would lapse.
      const there = await waitFor('the sibling to refuse the revoked token', async () => {
        const res = await send(b);
        return res.body.error?.code === 190 ? res : null;
      }, { timeoutMs: 5000 });
      expect(there.status).toBe(401);
    } finally {
      await sibling.stop();
    }
  });
});
