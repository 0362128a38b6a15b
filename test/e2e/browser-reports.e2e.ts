import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import type { ReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform, TEST_ADMIN_TOKEN } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { echoBotPage, psidOf } from '../factories/messaging.factory';
import { Person, signupPerson } from '../factories/registry.factory';

const DESKTOP = { width: 1280, height: 800 };

// "Report…" in the chat app's conversation header (web/src/chat/report-dialog.tsx), driven by the keyboard alone,
// in Debian's chromium against a spawned platform with real Postgres and Redis and a bot behind a real webhook.
describeBrowser('browser: reporting a conversation', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let biz: Awaited<ReturnType<typeof echoBotPage>>['biz'];
  let bot: ReplyingBot;
  let person: Person;
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium] = await Promise.all([startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500' } }), launchChromium(DESKTOP)]);
    api = httpClient(t.url);
    ({ biz, bot } = await echoBotPage(api, t.url));
    person = await signupPerson(api, 'Pat Person');
  });
  afterAll(async () => {
    await chromium?.close();
    await bot?.close();
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  async function newTab(token: string, path: string): Promise<Page> {
    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/`);
    await tab.evaluate(([k, v]) => (globalThis as any).localStorage.setItem(k, v), ['switchboard.person', token]);
    await tab.goto(`${t.url}${path}`);
    return tab;
  }
  const focused = (tab: Page) => tab.evaluate(() => {
    const el = (globalThis as any).document.activeElement;
    return { tag: el?.tagName, label: el?.getAttribute('aria-label'), value: el?.value, type: el?.type, text: el?.textContent?.trim() };
  });
  const reportsOfPage = async () => (await api.get(`/admin/reports?page_id=${biz.page.id}`, { token: TEST_ADMIN_TOKEN })).body.data;

  it('reports from the header menu with the keyboard: a reason, details, blocking by default; then a notice and the blocked banner', async () => {
    const tab = await newTab(person.token, `/?page=${biz.page.id}`);
    const conv = tab.getByRole('main', { name: 'Conversation with Acme' });
    await conv.waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const text = conv.getByRole('textbox', { name: 'Message' });
    await text.fill('Hello');
    await tab.keyboard.press('Enter');
    await conv.getByText('Got it: Hello').waitFor();
    const threadId = (await api.get('/threads', { token: person.token })).body.data.find((x: any) => x.page_id === biz.page.id).id;

    // The options button, then the menu's second item, by keyboard.
    const options = conv.getByRole('button', { name: 'Conversation options' });
    const openReport = async () => {
      await options.focus();
      await tab.keyboard.press('Enter');
      await conv.getByRole('menuitem', { name: 'Report…' }).waitFor();
      await tab.keyboard.press('Tab');
      await tab.keyboard.press('Tab');
      expect((await focused(tab)).text).toBe('Report…');
      await tab.keyboard.press('Enter');
    };
    await openReport();
    const dialog = conv.getByRole('dialog', { name: 'Report Acme' });
    await dialog.waitFor();
    // The first reason has the focus (once the dialog has drawn); nothing picked yet, so Submit waits.
    await waitFor('the focus on the first reason', async () => (await focused(tab)).value === 'spam');
    expect(await focused(tab)).toMatchObject({ tag: 'INPUT', type: 'radio', value: 'spam' });
    expect(await dialog.getByRole('button', { name: 'Submit' }).isDisabled()).toBe(true);
    expect(await dialog.getByRole('checkbox', { name: 'Also block messages from Acme' }).isChecked()).toBe(true);
    // Escape cancels, writes nothing, and gives the focus back to the options button.
    await tab.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    expect(await focused(tab)).toMatchObject({ label: 'Conversation options' });
    expect(await reportsOfPage()).toEqual([]);

    await openReport();
    await dialog.waitFor();
    // The first reason takes the focus once the dialog has drawn (keys pressed before that go nowhere).
    await waitFor('the focus on the first reason', async () => (await focused(tab)).value === 'spam');
    // Arrow keys move through the reasons and pick one, as a radio group does.
    await tab.keyboard.press('ArrowDown');
    expect(await dialog.getByRole('radio', { name: 'Scam or fraud' }).isChecked()).toBe(true);
    await tab.keyboard.press('Tab');
    await tab.keyboard.type('Asked for my card number');
    await tab.keyboard.press('Tab');
    expect(await focused(tab)).toMatchObject({ type: 'checkbox' });
    await tab.keyboard.press('Tab');
    await tab.keyboard.press('Tab');
    expect((await focused(tab)).text).toBe('Submit');
    await saveScreenshot(tab, 'chat-report-dialog.png');
    await tab.keyboard.press('Enter');

    const notice = conv.getByRole('status', { name: 'Report sent' });
    await notice.getByText('Thanks for letting us know').waitFor();
    expect(await notice.textContent()).toContain('You blocked messages from Acme.');
    expect(await dialog.count()).toBe(0);
    await conv.getByRole('status', { name: 'Blocked' }).getByText('You blocked messages from Acme').waitFor();
    expect(await text.isDisabled()).toBe(true);
    await saveScreenshot(tab, 'chat-reported.png');

    const [report] = await reportsOfPage();
    expect(report).toMatchObject({ thread_id: threadId, reason: 'scam', details: 'Asked for my card number', reported_seq: 2, status: 'open' });
    expect((await api.get(`/threads/${threadId}`, { token: person.token })).body.blocked).toBe(true);
    const refused = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(biz.pageToken)}`, {
      recipient: { id: await psidOf(t.db, threadId) },
      messaging_type: 'RESPONSE',
      message: { text: 'Come back!' },
    });
    expect([refused.status, refused.body.error?.code]).toEqual([400, 551]);

    // Blocked already: the dialog offers no block, and reporting again updates the one open report.
    await options.click();
    await conv.getByRole('menuitem', { name: 'Report…' }).click();
    await dialog.waitFor();
    expect(await dialog.getByRole('checkbox').count()).toBe(0);
    await dialog.getByRole('radio', { name: 'Harassment' }).check();
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await waitFor('the dialog closed', async () => (await dialog.count()) === 0);
    await notice.waitFor();
    expect(await notice.textContent()).not.toContain('You blocked messages');
    const again = await reportsOfPage();
    expect(again.map((r: any) => [r.id, r.reason, r.details])).toEqual([[report.id, 'harassment', 'Asked for my card number']]);
    await tab.close();
  });
});
