import type { BrowserContext } from 'playwright-core';
import { describeBrowser, launchChromium } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { createPage, pageWithApp, signupPerson } from '../factories/registry.factory';

// More messages than the chat app loads when a conversation opens (20 pages of 100).
const LONG = 2150;

// The chat app's view of a thread (web/src/chat/main.tsx): a conversation longer than its history load, and unread
// counts when another of the person's devices reads; in Debian's chromium against a spawned platform with real
// Postgres and Redis.
describeBrowser('browser: a thread in the chat app', () => {
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

  it('opens on the newest messages and marks them all read', async () => {
    const owner = await signupPerson(api, 'Page Owner');
    const page = await createPage(api, owner, 'Acme');
    const person = await signupPerson(api, 'Pat Person');
    const thread = await openThread(api, person, page.id);
    // The Page's history, written as the platform writes it (gap-free seqs, the thread's last_seq and time); sending
    // this many through the Send API would only test its rate limits.
    const base = Date.now() - 10 * 60_000;
    await t.db.query(
      `INSERT INTO messages (mid, thread_id, seq, sender, app_id, kind, timestamp, content)
       SELECT 'm_long' || s, $1, s, 'page', NULL, 'message', $2::bigint + s, jsonb_build_object('text', 'Page says ' || s)
         FROM generate_series(1, $3::int) s`,
      [thread.id, base, LONG],
    );
    await t.db.query(
      `UPDATE threads SET last_seq = $2, last_timestamp = $3, activity_minute = $3::bigint / 60000 WHERE id = $1`,
      [thread.id, LONG, base + LONG],
    );
    expect((await api.get('/threads', { token: person.token })).body.data[0]).toMatchObject({
      id: thread.id,
      unread_count: LONG,
    });

    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/`);
    await tab.evaluate((v) => (globalThis as any).localStorage.setItem('switchboard.person', v), person.token);
    await tab.goto(`${t.url}/?page=${page.id}`);
    const messages = tab.getByRole('main', { name: 'Conversation with Acme' }).getByRole('list', { name: 'Messages' });
    await messages
      .getByText('Page says 1', { exact: true })
      .or(messages.getByText(`Page says ${LONG}`, { exact: true }))
      .first()
      .waitFor();
    await waitFor('the history loaded', async () => (await messages.locator('.msg').count()) >= 2000);
    // The conversation's end is what the person sees, and reads.
    expect(await messages.getByText(`Page says ${LONG}`, { exact: true }).count()).toBe(1);
    await waitFor('every message read', async () => {
      const [t0] = (await api.get('/threads', { token: person.token })).body.data;
      return t0.unread_count === 0;
    });
    await tab.close();
  });

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
