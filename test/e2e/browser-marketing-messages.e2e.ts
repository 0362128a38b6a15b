import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { ReplyingBot, startReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS } from '../factories/messaging.factory';
import { pageWithApp, Person, signupPerson } from '../factories/registry.factory';

const FIELDS = `${ALL_FIELDS},messaging_optins`;

// Marketing messages in the chat app, in Debian's chromium: a bot sends an opt-in request, the person taps its
// button, the bot gets the token and sends with it; the person stops and resumes from the request. Real platform,
// Postgres, Redis and webhooks.
describeBrowser('browser: marketing messages in the chat app', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let biz: Awaited<ReturnType<typeof pageWithApp>>;
  let bot: ReplyingBot;
  let person: Person;
  let tab: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium] = await Promise.all([startTestPlatform({}), launchChromium({ width: 1280, height: 800 })]);
    api = httpClient(t.url);
    biz = await pageWithApp(api);
    bot = await startReplyingBot(
      t.url,
      () => biz.pageToken,
      async (item, b) => {
        if (item.message?.text === 'deals')
          await b.send({
            attachment: {
              type: 'template',
              payload: {
                template_type: 'notification_messages',
                title: 'Weekly deals',
                image_url: `${bot.imageBase}/teal.svg`,
                payload: 'DEALS',
                notification_messages_cta_text: 'GET_UPDATES',
              },
            },
          });
      },
    );
    expect(
      (await api.post(`/v25.0/${biz.app.id}/subscriptions`, {
        access_token: biz.app.token,
        object: 'page',
        callback_url: bot.receiver.url,
        verify_token: 'verify-me',
        fields: FIELDS,
      })).status,
    ).toBe(200);
    expect((await api.post(`/v25.0/${biz.page.id}/subscribed_apps`, { access_token: biz.pageToken, subscribed_fields: FIELDS })).status).toBe(200);
    person = await signupPerson(api, 'Pat Person');
    tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/`);
    await tab.evaluate((token) => (globalThis as any).localStorage.setItem('switchboard.person', token), person.token);
  });
  afterAll(async () => {
    await chromium?.close();
    await bot?.close();
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  it('opts in from the request, gets a message sent with the token, stops and resumes', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    const conversation = tab.getByRole('main', { name: 'Conversation with Acme' });
    await conversation.waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await tab.getByRole('textbox', { name: 'Message' }).fill('deals');
    await tab.keyboard.press('Enter');
    const request = conversation.getByRole('group', { name: 'Messages from this Page: Weekly deals' });
    await request.waitFor();

    await request.getByRole('button', { name: 'Get updates' }).click();
    await request.getByRole('status').filter({ hasText: "You'll get messages" }).waitFor();
    const optin = await waitFor('the opt-in webhook', () => bot.items.find((i) => i.optin?.user_token_status));
    expect(optin.optin).toMatchObject({ type: 'notification_messages', payload: 'DEALS', title: 'Weekly deals' });
    await saveScreenshot(tab, 'marketing-messages-opted-in.png');

    // The bot sends with the token it got: the person sees it.
    const sent = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(biz.pageToken)}`, {
      recipient: { notification_messages_token: optin.optin.notification_messages_token },
      message: { text: 'This week: 20% off everything' },
    });
    expect(sent.status).toBe(200);
    await conversation.getByText('This week: 20% off everything').waitFor();

    await request.getByRole('button', { name: 'Stop messages' }).click();
    await request.getByRole('status').filter({ hasText: 'You stopped these messages' }).waitFor();
    await waitFor('the stop webhook', () => bot.items.find((i) => i.optin?.notification_messages_status === 'STOP_NOTIFICATIONS'));
    await saveScreenshot(tab, 'marketing-messages-stopped.png');

    // Still stopped after a reload (read from the server), then resumed.
    await tab.reload();
    await request.getByRole('status').filter({ hasText: 'You stopped these messages' }).waitFor();
    await request.getByRole('button', { name: 'Resume messages' }).click();
    await request.getByRole('status').filter({ hasText: "You'll get messages" }).waitFor();
    await waitFor('the resume webhook', () => bot.items.find((i) => i.optin?.notification_messages_status === 'RESUME_NOTIFICATIONS'));
  });
});
