import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays, psidOf } from '../factories/messaging.factory';
import { pageWithApp, signupPerson } from '../factories/registry.factory';

// The chat app's notifications (web/src/chat/notify.ts) in Debian's chromium against a spawned platform with real
// Postgres and Redis: the tab's title counts unread messages, and the Page's messages raise a system notification as
// the Send API's notification_type asks. Chromium's own Notification is kept; each one made is also recorded.
describeBrowser('browser: notifications in the chat app', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium] = await Promise.all([startTestPlatform(), launchChromium({ width: 1280, height: 800 })]);
    api = httpClient(t.url);
    await chromium.context.grantPermissions(['notifications'], { origin: t.url });
  });
  afterAll(async () => {
    await chromium?.close();
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  it("counts unread messages in the title and notifies as the bot's notification_type asks", async () => {
    const biz = await pageWithApp(api);
    const person = await signupPerson(api, 'Pat Person');
    const thread = await openThread(api, person, biz.page.id);
    const psid = await psidOf(t.db, thread.id);
    await personSays(api, person, thread.id, 'Where is my order?');
    const say = async (text: string, notificationType?: string) => {
      const res = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(biz.pageToken)}`, {
        recipient: { id: psid },
        messaging_type: 'RESPONSE',
        message: { text },
        ...(notificationType ? { notification_type: notificationType } : {}),
      });
      expect(res.status).toBe(200);
    };

    const tab: Page = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.addInitScript(() => {
      const g = globalThis as any;
      const Real = g.Notification;
      g.__notices = [];
      const Recorded = function (title: string, options: any) {
        g.__notices.push({ title, body: options?.body, silent: options?.silent, tag: options?.tag });
        return new Real(title, options);
      } as any;
      Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
      Recorded.requestPermission = Real.requestPermission.bind(Real);
      g.Notification = Recorded;
    });
    await tab.goto(`${t.url}/`);
    await tab.evaluate((token) => (globalThis as any).localStorage.setItem('switchboard.person', token), person.token);
    await tab.reload();
    // The feed's socket is up (no thread is open, so the list says it).
    await tab.locator('aside[data-feed="websocket"]').waitFor();
    // Permission granted: no button to ask for it.
    expect(await tab.getByRole('button', { name: 'Turn on notifications' }).count()).toBe(0);
    expect(await tab.title()).toBe('Switchboard');

    // No thread open: each of the Page's messages is news, but NO_PUSH says nothing.
    await say('It left the warehouse', 'NO_PUSH');
    await say('It ships today');
    await say('Tracking: 123', 'SILENT_PUSH');
    const notices = await waitFor('two notifications', async () => {
      const n: any[] = await tab.evaluate(() => (globalThis as any).__notices);
      return n.length >= 2 ? n : undefined;
    });
    expect(notices).toEqual([
      { title: 'Acme', body: 'It ships today', silent: false, tag: `thread-${thread.id}` },
      { title: 'Acme', body: 'Tracking: 123', silent: true, tag: `thread-${thread.id}` },
    ]);
    await waitFor('the unread count in the title', async () => (await tab.title()) === '(3) Switchboard');

    // Reading the thread clears the count; a message to the thread on screen raises no notification.
    await tab.getByRole('list', { name: 'Threads' }).getByText('Acme', { exact: true }).click();
    await waitFor('the title without a count', async () => (await tab.title()) === 'Switchboard');
    await say('Anything else?');
    await tab.locator('.msg.page[data-mid]').filter({ hasText: 'Anything else?' }).waitFor();
    expect(await tab.evaluate(() => (globalThis as any).__notices.length)).toBe(2);
    expect(await tab.title()).toBe('Switchboard');
    await tab.close();
  });
});
