import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startBotReceiver } from '../support/bot-receiver';
import { httpClient } from '../support/http-client';
import { spawnPlatform } from '../support/spawn-platform';
import { connectApp, createApp, createPage } from '../factories/registry.factory';

// `npm start` on a machine with only Node: no DATABASE_URL, no REDIS_URL.
describe('embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-embedded-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('runs the whole registry on PGlite and in-process stand-ins, and keeps data across restarts', async () => {
    const bot = await startBotReceiver('embedded-verify');
    let p = await spawnPlatform('all', { DATA_DIR: dataDir });
    try {
      const startLog = p.logs.join('');
      expect(startLog).toContain('embedded PGlite');
      expect(startLog).toContain('in-process');
      expect(startLog).toContain('ALLOW_INSECURE_WEBHOOKS is on');
      // A first boot is clean: the app's pool waits for the migration connection to be gone (the embedded server
      // takes one connection at a time) instead of being refused and retrying with an error.
      expect(startLog).not.toContain('Unable to connect to the database');
      expect(startLog).not.toContain('"level":50');

      let api = httpClient(p.url);
      const ready = await api.get('/health/ready');
      expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'up' } });

      const signup = await api.post('/auth/signup', { username: 'embedded', password: 'embedded-pass', name: 'Em' });
      expect(signup.status).toBe(201);
      const owner = { id: signup.body.id, username: 'embedded', token: signup.body.access_token };
      const page = await createPage(api, owner);
      const app = await createApp(api, owner);
      await connectApp(api, owner, page.id, app.id);
      const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
        access_token: app.token,
        object: 'page',
        callback_url: bot.url,
        verify_token: 'embedded-verify',
        fields: 'messages',
      });
      expect(sub.body).toEqual({ success: true });

      expect(await p.stop()).toBe(0);
      p = await spawnPlatform('all', { DATA_DIR: dataDir });
      api = httpClient(p.url);
      const login = await api.post('/auth/login', { username: 'embedded', password: 'embedded-pass' });
      expect(login.status).toBe(200);
      const subs = await api.get(`/v25.0/${app.id}/subscriptions?access_token=${encodeURIComponent(app.token)}`);
      expect(subs.body.data[0].callback_url).toBe(bot.url);
    } finally {
      await p.stop();
      await bot.close();
    }
  }, 120_000);
});
