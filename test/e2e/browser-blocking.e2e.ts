import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import type { ReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { echoBotPage, psidOf } from '../factories/messaging.factory';
import { Person, signupPerson } from '../factories/registry.factory';

const DESKTOP = { width: 1280, height: 800 };

// "Block messages" in the chat app's conversation header (web/src/chat/main.tsx) and the blocked conversation in
// the console's Page Inbox (web/src/console/inbox-view.tsx), in Debian's chromium against a spawned platform with
// real Postgres and Redis and a bot behind a real webhook.
describeBrowser('browser: blocking messages from a Page', () => {
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

  async function newTab(key: 'switchboard.person' | 'switchboard.console', token: string, path: string): Promise<Page> {
    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}${key === 'switchboard.console' ? '/console' : '/'}`);
    await tab.evaluate(([k, v]) => (globalThis as any).localStorage.setItem(k, v), [key, token]);
    await tab.goto(`${t.url}${path}`);
    return tab;
  }

  it('blocks from the header menu after a confirmation, shows the banner with Unblock and a disabled composer; the Inbox shows it blocked', async () => {
    const tab = await newTab('switchboard.person', person.token, `/?page=${biz.page.id}`);
    const conv = tab.getByRole('main', { name: 'Conversation with Acme' });
    await conv.waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const text = conv.getByRole('textbox', { name: 'Message' });
    await text.fill('Hello');
    await tab.keyboard.press('Enter');
    await conv.getByText('Got it: Hello').waitFor();
    const threadId = (await api.get('/threads', { token: person.token })).body.data.find((x: any) => x.page_id === biz.page.id).id;
    const psid = await psidOf(t.db, threadId);
    // Another device of the person's, on the same conversation: it follows over its own socket.
    const other = await newTab('switchboard.person', person.token, `/?page=${biz.page.id}`);
    await other.locator('[data-transport="websocket"]').waitFor();

    // The header's options: Block messages asks first; Cancel changes nothing.
    await conv.getByRole('button', { name: 'Conversation options' }).click();
    await conv.getByRole('menuitem', { name: 'Block messages' }).click();
    const confirm = conv.getByRole('alertdialog', { name: 'Block messages from Acme?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await confirm.count()).toBe(0);
    expect((await api.get(`/threads/${threadId}`, { token: person.token })).body.blocked).toBe(false);

    await conv.getByRole('button', { name: 'Conversation options' }).click();
    await conv.getByRole('menuitem', { name: 'Block messages' }).click();
    await confirm.getByRole('button', { name: 'Block' }).click();
    const banner = conv.getByRole('status', { name: 'Blocked' });
    await banner.getByText('You blocked messages from Acme').waitFor();
    expect(await text.isDisabled()).toBe(true);
    expect(await conv.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    // Nothing on the messages offers to write to the Page either: no React, Edit or Reply.
    const messages = conv.getByRole('list', { name: 'Messages' });
    for (const name of ['React', 'Edit message', 'Reply']) expect(await messages.getByRole('button', { name }).count()).toBe(0);
    expect((await api.get(`/threads/${threadId}`, { token: person.token })).body).toMatchObject({ blocked: true, blocked_at: expect.any(Number) });
    // The other device shows it live.
    await other.getByRole('main', { name: 'Conversation with Acme' }).getByRole('status', { name: 'Blocked' }).waitFor();
    await saveScreenshot(tab, 'chat-blocked.png');

    // The bot is refused as on Messenger, and the person sees nothing new.
    const refused = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(biz.pageToken)}`, {
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      message: { text: 'Come back!' },
    });
    expect([refused.status, refused.body.error?.code, refused.body.error?.error_subcode]).toEqual([400, 551, 1545041]);

    // The console: the Page's admin sees the conversation blocked, readable, with no reply box.
    const consoleTab = await newTab('switchboard.console', biz.owner.token, `/console/pages/${biz.page.id}`);
    const inbox = consoleTab.getByRole('region', { name: 'Inbox' });
    const row = inbox.getByRole('list', { name: 'Conversations' }).locator(`[data-thread="${threadId}"]`);
    await row.getByTestId('blocked').waitFor();
    await row.click();
    const pane = inbox.getByRole('region', { name: 'Pat Person' });
    await pane.getByRole('list', { name: 'Messages with Pat Person' }).getByText('Hello', { exact: true }).waitFor();
    await pane.getByTestId('inbox-blocked').waitFor();
    expect(await pane.getByRole('textbox', { name: 'Reply to Pat Person' }).count()).toBe(0);
    await saveScreenshot(consoleTab, 'console-inbox-blocked.png');

    // Unblock from the banner: the composer opens, and the conversation goes on.
    await banner.getByRole('button', { name: 'Unblock' }).click();
    await waitFor('the banner gone', async () => (await banner.count()) === 0);
    expect(await text.isDisabled()).toBe(false);
    await text.fill('Back again');
    await tab.keyboard.press('Enter');
    await conv.getByText('Got it: Back again').waitFor();
    expect(await messages.getByRole('button', { name: 'React' }).count()).toBeGreaterThan(0);
    expect(await conv.getByText('Come back!').count()).toBe(0);
    // The console follows: blocked no more, the reply box is back.
    await waitFor('the Blocked tag gone', async () => (await row.getByTestId('blocked').count()) === 0);
    await pane.getByRole('textbox', { name: 'Reply to Pat Person' }).waitFor();
    await Promise.all([tab.close(), other.close(), consoleTab.close()]);
  });
});
