import type { BrowserContext } from 'playwright-core';
import { describeBrowser, launchChromium } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { pageWithApp, signupPerson } from '../factories/registry.factory';

// The chat app's unread counts (web/src/chat/main.tsx) when another of the person's devices reads, in Debian's
// chromium against a spawned platform with real Postgres and Redis.
describeBrowser('browser: unread counts in the chat app', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium] = await Promise.all([startTestPlatform(), launchChromium()]);
    api = httpClient(t.url);
  });
  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  it("another device's read clears only what it read: a partial read leaves the rest counted", async () => {
    const biz = await pageWithApp(api);
    const person = await signupPerson(api, 'Pat Person');
    const thread = await openThread(api, person, biz.page.id);
    await personSays(api, person, thread.id, 'Hello');
    const psid = await psidOf(t.db, thread.id);

    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/`);
    await tab.evaluate((v) => (globalThis as any).localStorage.setItem('switchboard.person', v), person.token);
    await tab.goto(`${t.url}/`);
    await tab.locator('[data-feed="websocket"]').waitFor();
    const threads = tab.getByRole('list', { name: 'Threads' });
    await threads.getByRole('button', { name: /Acme/ }).waitFor();

    // Not open on this device: both of the Page's messages count.
    for (const text of ['First', 'Second'])
      expect((await pageSays(api, biz.pageToken, psid, { text })).status).toBe(200);
    await threads.getByLabel('2 unread').waitFor();

    // Another device reads the first only: one is still unread, here as on the server.
    const first = (await api.get(`/threads/${thread.id}/messages`, { token: person.token })).body.data.find(
      (m: any) => m.text === 'First',
    );
    expect(
      (await api.post(`/threads/${thread.id}/read`, { watermark: first.timestamp }, { token: person.token })).status,
    ).toBe(200);
    expect((await api.get('/threads', { token: person.token })).body.data[0].unread_count).toBe(1);
    await threads.getByLabel('1 unread').waitFor();

    // It reads the rest: none.
    expect(
      (await api.post(`/threads/${thread.id}/read`, { watermark: Date.now() }, { token: person.token })).status,
    ).toBe(200);
    await threads.getByLabel('1 unread').waitFor({ state: 'detached' });
    expect(await threads.locator('.badge').count()).toBe(0);
    await tab.close();
  });
});
