import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { ReplyingBot, startReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS } from '../factories/messaging.factory';
import { pageWithApp, Person, signupPerson } from '../factories/registry.factory';

const FIELDS = `${ALL_FIELDS},messaging_account_linking`;

// Account linking in the chat app, in Debian's chromium: a bot offers Log In, the person goes to the business's
// login page (a local server that asks the platform whose tap it is), signs in, comes back to the conversation
// logged in; then logs out from the conversation's header. Real platform, Postgres, Redis and webhooks.
describeBrowser('browser: account linking in the chat app', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let biz: Awaited<ReturnType<typeof pageWithApp>>;
  let bot: ReplyingBot;
  let person: Person;
  let tab: Page;
  let loginServer: http.Server;
  let loginUrl: string;
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium] = await Promise.all([startTestPlatform({}), launchChromium({ width: 1280, height: 800 })]);
    api = httpClient(t.url);
    biz = await pageWithApp(api);
    // The business's login page: a form; its POST asks the platform whose tap the token is and sends the person back.
    loginServer = http.createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET') {
        const hidden = ['account_linking_token', 'redirect_uri']
          .map((k) => `<input type="hidden" name="${k}" value="${(url.searchParams.get(k) ?? '').replace(/"/g, '&quot;')}">`)
          .join('');
        return res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Shop login</title><form method="post">${hidden}<button>Sign in to Shop</button></form>`);
      }
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const form = new URLSearchParams(raw);
      const lookup = await request(
        `${t.url}/v25.0/me?fields=recipient&account_linking_token=${encodeURIComponent(form.get('account_linking_token') ?? '')}&access_token=${encodeURIComponent(biz.pageToken)}`,
      );
      const { recipient } = (await lookup.body.json()) as { recipient: string };
      res.writeHead(302, { location: `${form.get('redirect_uri')}&authorization_code=shop-user-for-${recipient}` }).end();
    });
    await new Promise<void>((r) => loginServer.listen(0, '127.0.0.1', r));
    loginUrl = `http://127.0.0.1:${(loginServer.address() as AddressInfo).port}/login`;
    bot = await startReplyingBot(
      t.url,
      () => biz.pageToken,
      async (item, b) => {
        if (item.message?.text === 'orders')
          await b.send({
            attachment: {
              type: 'template',
              payload: { template_type: 'button', text: 'Log in to see your orders', buttons: [{ type: 'account_link', url: loginUrl }] },
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
    loginServer?.closeAllConnections();
    await new Promise((r) => loginServer?.close(r));
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  it('logs in at the business’s page from a Log In button and comes back linked; logs out from the header', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    const conversation = tab.getByRole('main', { name: 'Conversation with Acme' });
    await conversation.waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await tab.getByRole('textbox', { name: 'Message' }).fill('orders');
    await tab.keyboard.press('Enter');
    await conversation.getByText('Log in to see your orders').waitFor();
    expect(await conversation.locator('.linked').count()).toBe(0);

    await conversation.getByRole('button', { name: 'Log In' }).click();
    await tab.getByRole('button', { name: 'Sign in to Shop' }).click();
    // Back in the conversation, logged in; the one-shot parameter is gone from the address.
    await tab.getByRole('main', { name: 'Conversation with Acme' }).waitFor();
    await tab.getByRole('status').filter({ hasText: 'You are logged in' }).waitFor();
    await tab.locator('[data-linked="true"]').waitFor();
    expect(new URL(tab.url()).search).toBe(`?page=${biz.page.id}`);
    expect(new URL(tab.url()).hash).toBe('');
    const linked = await waitFor('the linked webhook', () => bot.items.find((i) => i.account_linking));
    expect(linked.account_linking).toEqual({ status: 'linked', authorization_code: `shop-user-for-${linked.sender.id}` });
    await saveScreenshot(tab, 'account-linking-linked.png');

    await tab.locator('[data-linked="true"]').getByRole('button', { name: 'Log out' }).click();
    await tab.getByRole('status').filter({ hasText: 'You are logged out' }).waitFor();
    await waitFor('the linked mark to go', async () => (await tab.locator('[data-linked="true"]').count()) === 0);
    await waitFor('the unlinked webhook', () => bot.items.find((i) => i.account_linking?.status === 'unlinked'));
    expect((await api.get('/threads', { token: person.token })).status).toBe(200);
  });
});
