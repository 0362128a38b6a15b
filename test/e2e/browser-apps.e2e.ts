import type { BrowserContext, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { ReplyingBot, startReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, openThread, pageSays } from '../factories/messaging.factory';
import { connectApp, createPage, pageWithApp, signupPerson } from '../factories/registry.factory';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// Every status the person's messages show, in order, per mid, noted by a MutationObserver in the page: a
// status shown only briefly (Delivered just before Seen) is not missed by polling.
async function recordStatuses(tab: Page): Promise<void> {
  await tab.evaluate(() => {
    const g = globalThis as any;
    const log: Record<string, string[]> = (g.__statuses = {});
    const note = () => {
      for (const el of Array.from(g.document.querySelectorAll('.msg.person[data-mid] [data-status]')) as any[]) {
        const mid: string = el.closest('[data-mid]').getAttribute('data-mid');
        const status: string = el.getAttribute('data-status');
        const seen = (log[mid] ??= []);
        if (seen[seen.length - 1] !== status) seen.push(status);
      }
    };
    note();
    new g.MutationObserver(note).observe(g.document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
}
const statusesOf = (tab: Page, mid: string) =>
  tab.evaluate((m) => ((globalThis as any).__statuses[m] ?? []) as string[], mid);

const MEDIA_TTL_S = 3600;

// The chat app (/) and the console (/console), built into web/dist and served by the spawned platform,
// driven in Debian's chromium. One platform and one browser for the file: the machine is small.
describeBrowser('browser: the chat app and the console', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let biz: Awaited<ReturnType<typeof pageWithApp>>;
  let bot: ReplyingBot;
  let ctx: BrowserContext;
  // Page tokens of Pages besides biz.page, by page id.
  const pageTokens = new Map<string, string>();

  beforeAll(async () => {
    [t, chromium] = await Promise.all([
      // A failed attempt is retried only an hour later: only the console's replay sends it again within the test.
      startTestPlatform({
        env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500', WEBHOOK_RETRY_SCHEDULE: '0,3600', MEDIA_URL_TTL_SECONDS: String(MEDIA_TTL_S) },
      }),
      launchChromium(DESKTOP),
    ]);
    api = httpClient(t.url);
    biz = await pageWithApp(api);
    bot = await startReplyingBot(
      t.url,
      (pageId) => pageTokens.get(pageId) ?? biz.pageToken,
      async (item, b) => {
        await b.action('typing_on');
        if (item.postback) {
          await b.send({ text: `You picked ${item.postback.payload}` });
        } else if (item.message?.quick_reply) {
          await b.send({ text: `${item.message.text} it is!` });
        } else {
          await b.send({
            attachment: {
              type: 'template',
              payload: {
                template_type: 'generic',
                elements: ['blue', 'red', 'green'].map((c) => ({
                  title: `A ${c} shirt`,
                  subtitle: `Soft cotton, ${c}`,
                  image_url: `${bot.imageBase}/${c}.svg`,
                  buttons: [
                    { type: 'postback', title: `Buy ${c}`, payload: `BUY_${c.toUpperCase()}` },
                    { type: 'web_url', title: 'Details', url: `https://shop.example.com/${c}` },
                  ],
                })),
              },
            },
            quick_replies: [
              { content_type: 'text', title: 'Red', payload: 'QR_RED' },
              { content_type: 'text', title: 'Blue', payload: 'QR_BLUE' },
            ],
          });
        }
        // Seen a moment after the reply, so the person's message shows Delivered, then Seen.
        await new Promise((r) => setTimeout(r, 600));
        await b.action('mark_seen');
      },
    );
    const sub = await api.post(`/v25.0/${biz.app.id}/subscriptions`, {
      access_token: biz.app.token,
      object: 'page',
      callback_url: bot.receiver.url,
      verify_token: 'verify-me',
      fields: ALL_FIELDS,
    });
    expect(sub.status).toBe(200);
    ctx = chromium.context;
  });
  afterAll(async () => {
    await chromium?.close();
    await bot?.close();
    await t?.close();
  });

  it('serves both apps without shadowing the API', async () => {
    const home = await api.get('/');
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toContain('text/html');
    expect(home.text).toContain('<div id="app">');
    for (const path of ['/console', '/console/x', '/console/apps/123', '/console/a/b/c']) {
      const deep = await api.get(path);
      expect([path, deep.status]).toEqual([path, 200]);
      expect(deep.text).toContain('console');
    }
    expect((await api.get('/threads')).status).toBe(401);
    expect((await api.get('/health')).status).toBe(200);
    expect((await api.get('/no-such-route')).status).toBe(404);
  });

  it('chats with a bot: generic template, quick replies, a postback, Delivered then Seen, no reload', async () => {
    const tab = await ctx.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/`);
    await tab.getByRole('tab', { name: 'Sign up' }).click();
    await tab.getByLabel('Username').fill(`p${Date.now().toString(36)}`);
    await tab.getByLabel('Your name').fill('Pat Person');
    await tab.getByLabel('Password').fill('a-long-password');
    await tab.getByRole('button', { name: 'Create account' }).click();

    await tab.getByLabel('Find a Page').fill('Acme');
    await tab.getByRole('list', { name: 'Pages found' }).getByRole('button', { name: /Acme/ }).click();
    await tab.getByRole('main', { name: 'Conversation with Acme' }).waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await recordStatuses(tab);

    // Keyboard only: type and press Enter.
    await tab.getByRole('textbox', { name: 'Message' }).fill('Hi, shirts?');
    await tab.keyboard.press('Enter');
    const cards = tab.getByRole('list', { name: 'Carousel' }).getByRole('listitem');
    await cards.first().waitFor();
    expect(await cards.count()).toBe(3);
    await expect(tab.getByRole('list', { name: 'Messages' }).getByText('Soft cotton, red').isVisible()).resolves.toBe(
      true,
    );
    await tab.locator('.msg.person [data-status="Seen"]').waitFor();
    // Delivered is the server's word (the bot answered the webhook with 200: a delivery event by: "page"),
    // shown before Seen (the bot's mark_seen comes 600 ms after its reply).
    const firstMid = (await tab
      .locator('.msg.person[data-mid]')
      .filter({ hasText: 'Hi, shirts?' })
      .getAttribute('data-mid'))!;
    const firstStatuses = await statusesOf(tab, firstMid);
    expect(firstStatuses).toContain('Delivered');
    expect(firstStatuses.slice(firstStatuses.indexOf('Delivered'))).toEqual(['Delivered', 'Seen']);
    const chips = tab.getByRole('group', { name: 'Quick replies' });
    await chips.waitFor();
    await saveScreenshot(tab, 'chat-desktop.png');

    // A quick reply: sends its title with the payload; the chips go with the next message.
    await chips.getByRole('button', { name: 'Red' }).click();
    await tab.getByRole('list', { name: 'Messages' }).getByText('Red it is!').waitFor();
    expect(await chips.count()).toBe(0);
    const qr = await waitFor('the quick reply webhook', () => bot.items.find((i) => i.message?.quick_reply));
    expect(qr.message).toMatchObject({ text: 'Red', quick_reply: { payload: 'QR_RED' } });
    await tab.locator('.msg.person').last().locator('[data-status="Seen"]').waitFor();
    const redStatuses = await statusesOf(
      tab,
      (await tab.locator('.msg.person[data-mid]').last().getAttribute('data-mid'))!,
    );
    expect(redStatuses.slice(redStatuses.indexOf('Delivered'))).toEqual(['Delivered', 'Seen']);

    // A postback button in the carousel.
    await tab.getByRole('button', { name: 'Buy green' }).click();
    await tab.getByRole('list', { name: 'Messages' }).getByText('You picked BUY_GREEN').waitFor();
    const pb = await waitFor('the postback webhook', () => bot.items.find((i) => i.postback));
    expect(pb.postback).toMatchObject({ title: 'Buy green', payload: 'BUY_GREEN' });
    await tab.locator('.msg.person').last().locator('[data-status="Seen"]').waitFor();
    expect(await tab.getByRole('link', { name: 'Details' }).first().getAttribute('href')).toBe(
      'https://shop.example.com/blue',
    );

    // The client told the page it got and read the replies.
    await waitFor(
      'delivery and read webhooks',
      () => bot.items.some((i) => i.delivery) && bot.items.some((i) => i.read),
    );

    const psid = bot.items.find((i) => i.message && !i.message.is_echo).sender.id;
    // A reply quoting the person's first message (Send API reply_to), sent silently: drawn like any other
    // message (the app makes no notification or sound of any kind, so notification_type changes nothing).
    const quoted = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(biz.pageToken)}`, {
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      notification_type: 'SILENT_PUSH',
      message: { text: 'About your question: yes, in three colours', reply_to: { mid: firstMid } },
    });
    expect(quoted.status).toBe(200);
    const reply = tab.locator('.msg.page[data-mid]').filter({ hasText: 'About your question' });
    await reply.getByRole('blockquote', { name: 'Replying to you: Hi, shirts?' }).waitFor();
    expect(await reply.locator('.reply-quote + .bubble').textContent()).toBe(
      'About your question: yes, in three colours',
    );
    await saveScreenshot(tab, 'chat-reply-quote.png');

    // The typing indicator follows typing_on and typing_off.
    const typing = tab.getByLabel('Acme is typing');
    await api.post(
      '/v25.0/me/messages',
      { recipient: { id: psid }, sender_action: 'typing_on' },
      { token: biz.pageToken },
    );
    await typing.waitFor();
    await api.post(
      '/v25.0/me/messages',
      { recipient: { id: psid }, sender_action: 'typing_off' },
      { token: biz.pageToken },
    );
    await typing.waitFor({ state: 'detached' });

    // A dropped socket: what the page sends meanwhile arrives once, with nothing lost.
    await tab.evaluate(() => (globalThis as any).__switchboardFeed.dropSocket());
    const late = await pageSays(api, biz.pageToken, psid, { text: 'Sent while you were away' });
    expect(late.status).toBe(200);
    await tab.getByRole('list', { name: 'Messages' }).getByText('Sent while you were away').waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const mids = await tab.locator('.msg[data-mid]').evaluateAll((els) => els.map((e) => e.getAttribute('data-mid')));
    expect(new Set(mids).size).toBe(mids.length);
    const personToken = await tab.evaluate(
      () => (globalThis as any).localStorage.getItem('switchboard.person') as string,
    );
    const stored = await api.get(`/threads`, { token: personToken });
    expect(mids.length).toBe(stored.body.data[0].last_seq);

    // Button and receipt templates, and an image: a thumbnail first, the full image on tap.
    const messages = tab.getByRole('list', { name: 'Messages' });
    await pageSays(api, biz.pageToken, psid, {
      attachment: {
        type: 'template',
        payload: {
          template_type: 'button',
          text: 'Need help?',
          buttons: [{ type: 'postback', title: 'Talk to us', payload: 'HELP' }],
        },
      },
    });
    await pageSays(api, biz.pageToken, psid, {
      attachment: {
        type: 'template',
        payload: {
          template_type: 'receipt',
          recipient_name: 'Pat Person',
          merchant_name: 'Acme',
          order_number: 'A-1001',
          currency: 'EUR',
          payment_method: 'Visa 1234',
          elements: [{ title: 'A green shirt', quantity: 1, price: 25, image_url: `${bot.imageBase}/green.svg` }],
          summary: { subtotal: 25, shipping_cost: 5, total_cost: 30 },
        },
      },
    });
    await pageSays(api, biz.pageToken, psid, {
      attachment: { type: 'image', payload: { url: `${bot.imageBase}/purple.png` } },
    });
    await messages.getByRole('button', { name: 'Talk to us' }).waitFor();
    await messages.getByLabel('Receipt').getByText('Order #A-1001').waitFor();
    await messages.getByRole('button', { name: 'Open image' }).click();
    await tab.getByRole('dialog', { name: 'Image' }).waitFor();
    await tab.keyboard.press('Escape');
    await tab.getByRole('dialog').waitFor({ state: 'detached' });

    await tab.setViewportSize(PHONE);
    await saveScreenshot(tab, 'chat-phone.png');
    await tab.getByRole('button', { name: 'Back to chats' }).click();
    const threadList = tab.getByRole('list', { name: 'Threads' });
    await threadList.waitFor();
    // Not on screen: the thread counts it as unread until it is opened.
    await pageSays(api, biz.pageToken, psid, { text: 'Anything else?' });
    await threadList.getByLabel('1 unread').waitFor();
    await saveScreenshot(tab, 'chat-phone-threads.png');
    await threadList.getByRole('button', { name: /Acme/ }).click();
    await messages.getByText('Anything else?').waitFor();
    await waitFor('the unread count cleared on the server', async () => {
      const list = await api.get('/threads', { token: personToken });
      return list.body.data[0].unread_count === 0;
    });
    expect(await threadList.getByLabel('1 unread').count()).toBe(0);
    expect(errors).toEqual([]);
    await tab.close();
  });

  it('falls back to long-poll by itself when sockets fail', async () => {
    const tab = await ctx.newPage();
    // Every WebSocket is closed before the server's hello, as a proxy that breaks upgrades does.
    await tab.routeWebSocket(/\/ws/, (ws) => ws.close());
    await tab.goto(`${t.url}/`);
    await tab.locator('.thread').first().click();
    await tab.locator('[data-transport="long-poll"]').waitFor();
    const psid = bot.items.find((i) => i.message && !i.message.is_echo).sender.id;
    await pageSays(api, biz.pageToken, psid, { text: 'Over long-poll' });
    await tab.getByRole('list', { name: 'Messages' }).getByText('Over long-poll').waitFor();
    await tab.close();
  });

  it('sends a photo: a preview before sending, remove, progress, an error, the image in the thread and the webhook', async () => {
    const tab = await ctx.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.setViewportSize(DESKTOP);
    await tab.goto(`${t.url}/`);
    await tab.locator('.thread').first().click();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const beach = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#2a9d8f' } })
      .png()
      .toBuffer();
    const receipt = await sharp({ create: { width: 300, height: 600, channels: 3, background: '#e9c46a' } })
      .jpeg()
      .toBuffer();

    // Uploads are held until the progress has been seen.
    const held: Route[] = [];
    await tab.route('**/threads/*/attachments', (route) => void held.push(route));

    // Keyboard: the labelled button opens the file chooser.
    const chooser = tab.waitForEvent('filechooser');
    await tab.getByRole('button', { name: 'Attach files' }).focus();
    await tab.keyboard.press('Enter');
    await (
      await chooser
    ).setFiles([
      { name: 'beach.png', mimeType: 'image/png', buffer: beach },
      { name: 'receipt.jpg', mimeType: 'image/jpeg', buffer: receipt },
    ]);
    const drafts = tab.getByRole('list', { name: 'Attachments to send' });
    await drafts.getByRole('img', { name: 'Preview of beach.png' }).waitFor();
    await drafts.getByRole('img', { name: 'Preview of receipt.jpg' }).waitFor();
    await drafts.getByRole('progressbar', { name: 'Uploading beach.png' }).waitFor();
    expect(await tab.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await waitFor('both uploads to be requested', () => held.length === 2);
    await tab.setViewportSize(PHONE);
    await saveScreenshot(tab, 'chat-attachments-preview-phone.png');
    await tab.setViewportSize(DESKTOP);

    // Removed before sending: it goes from the previews and is not sent.
    await drafts.getByRole('button', { name: 'Remove receipt.jpg' }).click();
    expect(await drafts.getByRole('listitem').count()).toBe(1);
    await tab.unroute('**/threads/*/attachments');
    // The removed one's request was aborted by the page: continuing it may fail, and need not succeed.
    for (const r of held) await r.continue().catch(() => undefined);
    await drafts.locator('[data-state="ready"]').waitFor();
    expect(await drafts.getByRole('progressbar').count()).toBe(0);

    // A file that is not what it claims: the server's refusal, in words, and it must be removed first.
    await tab
      .getByTestId('attach-input')
      .setInputFiles({
        name: 'broken.jpg',
        mimeType: 'image/jpeg',
        buffer: Buffer.from('MZ this is not a picture at all'.repeat(50)),
      });
    await drafts.getByRole('alert').getByText('The file’s contents do not match its type.').waitFor();
    expect(await tab.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await tab.getByText('Retry or remove the file that failed.').waitFor();
    await drafts.getByRole('button', { name: 'Remove broken.jpg' }).click();
    expect(await tab.getByRole('button', { name: 'Send' }).isEnabled()).toBe(true);

    await tab.getByRole('textbox', { name: 'Message' }).fill('Our beach');
    await tab.keyboard.press('Enter');
    await drafts.waitFor({ state: 'detached' });
    const mine = tab.locator('.msg.person[data-mid]').filter({ hasText: 'Our beach' });
    const thumb = mine.getByRole('button', { name: 'Open image' }).locator('img');
    await thumb.waitFor();
    expect(await thumb.getAttribute('src')).toContain('/thumb.webp?');
    await waitFor('the thumbnail to load', () => thumb.evaluate((img: any) => img.complete && img.naturalWidth > 0));

    // The bot gets Messenger's shape: attachments [{type: 'image', payload: {url}}], the URL signed.
    const item = await waitFor('the photo webhook', () =>
      bot.items.find((i) => i.message?.attachments && !i.message.is_echo),
    );
    expect(item.message.text).toBe('Our beach');
    expect(item.message.attachments).toEqual([
      { type: 'image', payload: { url: expect.stringMatching(/\/media\/\d+\/display\.jpg\?exp=\d+&sig=/) } },
    ]);
    const fetched = await fetch(item.message.attachments[0].payload.url);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await fetched.arrayBuffer())).metadata()).width).toBe(640);
    await mine.locator('[data-status="Seen"]').waitFor();

    // Full size on tap.
    await mine.getByRole('button', { name: 'Open image' }).click();
    const full = tab.getByRole('dialog', { name: 'Image' }).getByRole('img', { name: 'Full size' });
    expect(await full.getAttribute('src')).toContain('/display.webp?');
    await saveScreenshot(tab, 'chat-attachment-full.png');
    await tab.keyboard.press('Escape');

    // From history after a reload: the same photo, once. Its thumbnail fails to load the first time (as an
    // expired signed URL does): the app re-fetches that one message for fresh URLs, once, and shows it.
    const mediaId = /\/media\/(\d+)\/thumb\.webp\?/.exec((await thumb.getAttribute('src'))!)![1];
    const thumbUrl = new RegExp(`/media/${mediaId}/thumb\\.webp\\?`);
    let thumbRequests = 0;
    await tab.route(thumbUrl, (route) => (thumbRequests++ === 0 ? route.fulfill({ status: 403 }) : route.continue()));
    const seq = Number(await mine.getAttribute('data-seq'));
    const refetches: string[] = [];
    const isRefetch = (url: string) => url.includes(`/messages?after_seq=${seq - 1}&limit=1`);
    tab.on('request', (r) => isRefetch(r.url()) && refetches.push(r.url()));
    await tab.reload();
    await tab.locator('.thread').first().click();
    const again = tab.locator('.msg.person[data-mid]').filter({ hasText: 'Our beach' });
    await again.getByRole('button', { name: 'Open image' }).waitFor();
    expect(await again.count()).toBe(1);
    expect(await tab.locator('.msg.person .thumb').count()).toBe(1);
    const againThumb = again.getByRole('button', { name: 'Open image' }).locator('img');
    await waitFor('the thumbnail to load after the re-fetch', () =>
      againThumb.evaluate((img: any) => img.complete && img.naturalWidth > 0),
    );
    expect(thumbRequests).toBeGreaterThan(1);
    expect(refetches).toHaveLength(1);
    await tab.unroute(thumbUrl);

    // The URLs' expiry passes (the page's clock set past it, timers running): the open conversation re-fetches
    // the messages with signed media in one request, and draws the fresh URLs; the clock stands still, so
    // the once-a-minute rule keeps it at one.
    const signedSrc = (await againThumb.getAttribute('src'))!;
    const exp = Number(new URL(signedSrc).searchParams.get('exp'));
    // Expiries have whole seconds: a re-fetch in the second these URLs were signed gets the same URLs back.
    // Wait (real time) for the server's clock to reach the next second first.
    await waitFor('the next second after the signing', () => Date.now() >= (exp - MEDIA_TTL_S + 1) * 1000);
    const expiryRefetches: string[] = [];
    tab.on('request', (r) => /\/threads\/[^/]+\/messages\?after_seq=/.test(r.url()) && !r.url().includes('limit=100') && expiryRefetches.push(r.url()));
    await tab.clock.setFixedTime(exp * 1000 + 60_000);
    await waitFor('the fresh thumbnail URL', async () => (await againThumb.getAttribute('src')) !== signedSrc);
    expect(expiryRefetches).toHaveLength(1);
    expect(Number(new URL((await againThumb.getAttribute('src'))!).searchParams.get('exp'))).toBeGreaterThan(exp);
    await waitFor('the fresh thumbnail to load', () => againThumb.evaluate((img: any) => img.complete && img.naturalWidth > 0));
    await saveScreenshot(tab, 'chat-attachment-sent.png');
    expect(errors).toEqual([]);
    await tab.close();
  });

  it('a new thread shows the Page greeting, Get Started, ice breakers and the persistent menu', async () => {
    const page = await createPage(api, biz.owner, 'Globex');
    const token = await connectApp(api, biz.owner, page.id, biz.app.id);
    pageTokens.set(page.id, token);
    const profileRoute = (await api.get(`/pages/${page.id}/profile`, { token: biz.owner.token })).status !== 404;
    if (profileRoute) {
      const set = await api.post(
        `/v25.0/me/messenger_profile`,
        {
          get_started: { payload: 'GET_STARTED' },
          greeting: [{ locale: 'default', text: 'Hello {{user_first_name}}, welcome to Globex' }],
          ice_breakers: [{ locale: 'default', call_to_actions: [{ question: 'Opening hours?', payload: 'HOURS' }] }],
          persistent_menu: [
            {
              locale: 'default',
              composer_input_disabled: false,
              call_to_actions: [{ type: 'postback', title: 'Talk to a human', payload: 'HUMAN' }],
            },
          ],
        },
        { token },
      );
      expect(set.status).toBe(200);
    } else {
      console.warn('GET /pages/:id/profile is not on this build (branch sendapi): the welcome shows no greeting');
    }
    const tab = await ctx.newPage();
    await tab.setViewportSize(DESKTOP);
    await tab.goto(`${t.url}/`);
    await tab.getByLabel('Find a Page').fill('Globex');
    await tab
      .getByRole('list', { name: 'Pages found' })
      .getByRole('button', { name: /Globex/ })
      .click();
    const welcome = tab.getByRole('listitem', { name: 'Welcome' });
    if (!profileRoute) {
      await welcome.getByText('Say hello to Globex.').waitFor();
      await tab.close();
      return;
    }
    await welcome.getByText('Hello Pat, welcome to Globex').waitFor();
    await welcome.getByRole('button', { name: 'Opening hours?' }).waitFor();
    await saveScreenshot(tab, 'chat-welcome.png');
    await welcome.getByRole('button', { name: 'Get Started' }).click();
    const messages = tab.getByRole('list', { name: 'Messages' });
    await messages.locator('.msg.person').getByText('Get Started').waitFor();

    await messages.getByText('You picked GET_STARTED').waitFor();
    await tab.getByRole('button', { name: 'Menu' }).click();
    await tab.getByRole('list', { name: 'Menu' }).getByRole('button', { name: 'Talk to a human' }).click();
    await messages.getByText('You picked HUMAN').waitFor();
    await tab.close();
  });

  it('a token revoked elsewhere ends the session at once; Log out revokes the token on the server', async () => {
    const tab = await ctx.newPage();
    await tab.goto(`${t.url}/`);
    await tab.locator('.thread').first().click();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const token = await tab.evaluate(() => (globalThis as any).localStorage.getItem('switchboard.person') as string);
    const me = await api.get('/me', { token });
    // Revoked by another device's logout: the socket closes with 4401 and the app asks to log in, no reconnect loop.
    expect((await api.post('/auth/logout', {}, { token })).status).toBe(204);
    await tab.getByRole('form', { name: 'Log in' }).waitFor();
    expect(await tab.evaluate(() => (globalThis as any).localStorage.getItem('switchboard.person'))).toBeNull();

    await tab.getByLabel('Username').fill(me.body.username);
    await tab.getByLabel('Password').fill('a-long-password');
    await tab.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
    await tab.locator('.thread').first().click();
    await tab.locator('[data-transport="websocket"]').waitFor();
    const second = await tab.evaluate(() => (globalThis as any).localStorage.getItem('switchboard.person') as string);
    expect(second).not.toBe(token);
    await tab.getByRole('button', { name: 'Log out' }).click();
    await tab.getByRole('form', { name: 'Log in' }).waitFor();
    await waitFor('the token revoked', async () => ((await api.get('/me', { token: second })).status === 401 ? true : undefined));

    // Back in, for whatever runs next in this browser context.
    await tab.getByLabel('Username').fill(me.body.username);
    await tab.getByLabel('Password').fill('a-long-password');
    await tab.getByRole('form', { name: 'Log in' }).getByRole('button', { name: 'Log in' }).click();
    await tab.locator('.thread').first().click();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await tab.close();
  });

  it('console: pages, apps, a token shown once, a rotated secret, the webhook verification result', async () => {
    const tab = await ctx.newPage();
    await tab.setViewportSize(DESKTOP);
    await tab.goto(`${t.url}/console`);
    await tab.getByLabel('Username').fill(biz.owner.username);
    await tab.getByLabel('Password').fill('a-long-password');
    await tab.getByRole('button', { name: 'Log in' }).click();
    const nav = tab.getByRole('navigation', { name: 'Pages and apps' });
    await nav.getByRole('button', { name: 'Acme' }).click();
    await tab.getByRole('cell', { name: 'Bot' }).waitFor();

    // Connect the app again: a new page token, shown once.
    await tab.getByRole('button', { name: 'Connect app' }).click();
    const pageToken = await tab.getByTestId('shown-once').textContent();
    expect(pageToken).toMatch(/\S{20,}/);
    biz.pageToken = pageToken!;

    // Admins: another person added by username, listed, then removed again.
    const helper = await signupPerson(api, 'Helper Person');
    const admins = tab.getByRole('list', { name: 'Page admins' });
    await admins.getByText(`@${biz.owner.username}`).waitFor();
    await tab.getByLabel('Add an admin by username').fill(helper.username);
    await tab.getByRole('button', { name: 'Add admin' }).click();
    await admins.getByText(`@${helper.username}`).waitFor();
    await saveScreenshot(tab, 'console-page.png', { fullPage: true });
    tab.once('dialog', (d) => void d.accept());
    await admins.getByRole('button', { name: `Remove ${helper.username}` }).click();
    await admins.getByText(`@${helper.username}`).waitFor({ state: 'detached' });
    expect(await admins.getByRole('listitem').count()).toBe(1);

    await nav.getByRole('button', { name: 'Bot' }).click();
    await tab.waitForURL(`**/console/apps/${biz.app.id}`);
    tab.once('dialog', (d) => void d.accept());
    await tab.getByRole('button', { name: 'Rotate app secret' }).click();
    const secret = (await tab.getByTestId('shown-once').textContent())!;
    expect(secret).toMatch(/^[0-9a-f]{20,}$/i);

    // A callback that does not answer the challenge is refused with Graph's message; the bot's is verified.
    await tab.getByLabel('Callback URL').fill(bot.receiver.url);
    await tab.getByLabel('Verify token').fill('wrong-token');
    await tab.getByRole('textbox', { name: 'App secret' }).fill(secret);
    await tab.getByRole('button', { name: 'Verify and save' }).click();
    await expect(tab.getByTestId('verification').textContent()).resolves.toMatch(/Verification failed: .*2200/);
    await tab.getByLabel('Verify token').fill('verify-me');
    await tab.getByRole('button', { name: 'Verify and save' }).click();
    await tab.getByText('Verified: the callback answered the challenge').waitFor();
    await saveScreenshot(tab, 'console-desktop.png', { fullPage: true });
    await tab.setViewportSize(PHONE);
    await saveScreenshot(tab, 'console-phone.png');
    await tab.close();
  });

  it('console: a failing delivery is visible, and its replay succeeds once the bot is fixed', async () => {
    const gateway = (await api.get(`/apps/${biz.app.id}/webhook`, { token: biz.owner.token })).status !== 404;
    const tab = await ctx.newPage();
    await tab.setViewportSize(DESKTOP);
    await tab.goto(`${t.url}/console/apps/${biz.app.id}`);
    if (!gateway) {
      // The gateway routes (branch `gateway`) are not on this build: the console says so instead of failing.
      console.warn('GET /apps/:id/webhook is not on this build: the delivery log test checks the labelled gap only');
      await tab.getByText('need the webhook gateway routes').waitFor();
      await tab.close();
      return;
    }
    bot.healthy = false;
    const psid = bot.items.find((i) => i.message && !i.message.is_echo).sender.id;
    const sent = await pageSays(api, biz.pageToken, psid, { text: 'an echo the bot will refuse' });
    expect(sent.status).toBe(200);
    await waitFor('a failed attempt', async () => {
      const log = await api.get(`/apps/${biz.app.id}/deliveries`, { token: biz.owner.token });
      return log.body.data?.find((d: any) => d.last_error);
    });
    await tab.reload();
    const row = tab
      .locator('tr[data-delivery]')
      .filter({ hasText: /HTTP 500|500/ })
      .first();
    await row.waitFor();
    await saveScreenshot(tab, 'console-deliveries-failing.png', { fullPage: true });
    bot.healthy = true;
    await row.getByRole('button', { name: /^(Replay|Retry now) delivery/ }).click();
    await waitFor('the replayed delivery', async () => {
      const log = await api.get(`/apps/${biz.app.id}/deliveries?status=delivered`, { token: biz.owner.token });
      return log.body.data?.some((d: any) => d.attempts > 1);
    });
    await tab.getByRole('button', { name: 'Refresh' }).click();
    await tab.locator('tr[data-status="delivered"]').first().waitFor();
    await saveScreenshot(tab, 'console-deliveries-replayed.png', { fullPage: true });

    // Paging: 10 a page, "Load more" appends the next (older) ones.
    const firstTen = await api.get(`/apps/${biz.app.id}/deliveries?limit=10`, { token: biz.owner.token });
    expect(firstTen.body.paging.next_cursor).not.toBeNull();
    const rows = tab.locator('tr[data-delivery]');
    await tab.getByLabel('Per page').selectOption('10');
    await waitFor('a page of 10', async () => (await rows.count()) === 10);
    const shown = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-delivery')));
    await tab.getByRole('button', { name: 'Load more' }).click();
    await waitFor('the next page', async () => (await rows.count()) > 10);
    const all = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-delivery')));
    expect(all.slice(0, 10)).toEqual(shown);
    expect(new Set(all).size).toBe(all.length);
    const older = await api.get(`/apps/${biz.app.id}/deliveries?limit=10&cursor=${firstTen.body.paging.next_cursor}`, {
      token: biz.owner.token,
    });
    expect(all.slice(10, 10 + older.body.data.length)).toEqual(older.body.data.map((d: any) => d.id));
    await saveScreenshot(tab, 'console-deliveries-paged.png', { fullPage: true });

    // A time range: nothing from the future; cleared, the log is back.
    await tab.getByLabel('From', { exact: true }).fill('2099-01-01T00:00');
    await tab.getByText('No deliveries.').waitFor();
    await tab.getByLabel('From', { exact: true }).fill('');
    await waitFor('the log again', async () => (await rows.count()) === 10);
    await tab.close();
  });

  it('console: the hosted script editor saves, activates and dry-runs a version', async () => {
    const scriptsRoute = (await api.get(`/pages/${biz.page.id}/scripts`, { token: biz.owner.token })).status !== 404;
    const tab = await ctx.newPage();
    await tab.setViewportSize(DESKTOP);
    await tab.goto(`${t.url}/console/pages/${biz.page.id}`);
    if (!scriptsRoute) {
      console.warn('/pages/:id/scripts is not on this build (branch scripts): the console shows the labelled gap');
      await tab.getByText('this server has no').waitFor();
      await tab.close();
      return;
    }
    await tab.getByRole('button', { name: 'Save new version' }).click();
    const versions = tab.getByRole('table', { name: 'Script versions' });
    await versions.getByText('v1').waitFor();
    await versions.getByRole('button', { name: 'Activate' }).click();
    await versions.getByText('active').waitFor();
    await tab.getByRole('button', { name: 'Dry run', exact: true }).click();
    await tab.getByLabel('Dry-run result').getByText('"hi"').waitFor();
    await saveScreenshot(tab, 'console-scripts.png', { fullPage: true });

    // The active script's handover role: primary here, on the server too; the Connected apps table follows.
    const scriptRole = tab.getByLabel('Handover role of the hosted script');
    await scriptRole.selectOption('primary');
    await waitFor('the script primary', async () => (await api.get(`/pages/${biz.page.id}/scripts`, { token: biz.owner.token })).body.handover_role === 'primary');
    await waitFor('the select showing primary', async () => (await scriptRole.inputValue()) === 'primary');
    await scriptRole.selectOption('');
    await waitFor('no role again', async () => (await api.get(`/pages/${biz.page.id}/scripts`, { token: biz.owner.token })).body.handover_role === null);

    // A second version, then the first one's source back in the editor (GET /pages/:id/scripts/1).
    const editor = tab.getByLabel('Source (a new version)');
    const v1 = await editor.inputValue();
    await editor.fill(v1.replace("'echoing'", "'v2 echoing'"));
    await tab.getByRole('button', { name: 'Save new version' }).click();
    await versions.getByText('v2').waitFor();
    await tab.getByRole('button', { name: 'Load the source of v1 into the editor' }).click();
    await tab.getByText('The editor holds the source of v1.').waitFor();
    expect(await editor.inputValue()).toBe(v1);
    await editor.fill(v1 + '// unsaved\n');
    await tab.getByText('Edited from v1.').waitFor();
    // Unsaved edits are not lost without asking.
    const asked = new Promise<string>((r) =>
      tab.once('dialog', (d) => {
        r(d.message());
        void d.dismiss();
      }),
    );
    await tab.getByRole('button', { name: 'Load the source of v2 into the editor' }).click();
    expect(await asked).toContain('unsaved changes');
    expect(await editor.inputValue()).toBe(v1 + '// unsaved\n');
    tab.once('dialog', (d) => void d.accept());
    await tab.getByRole('button', { name: 'Load the source of v2 into the editor' }).click();
    await tab.getByText('The editor holds the source of v2.').waitFor();
    expect(await editor.inputValue()).toContain("'v2 echoing'");

    // Deactivate, after a confirmation: no version active, on the server too.
    tab.once('dialog', (d) => void d.accept());
    await tab.getByRole('button', { name: 'Deactivate v1' }).click();
    await tab.getByText('none active').waitFor();
    const after = await api.get(`/pages/${biz.page.id}/scripts`, { token: biz.owner.token });
    expect(after.body.active_version).toBeNull();
    await tab.close();
  });

  it('lists conversations a page at a time, the older ones on request', async () => {
    // Another person, with 31 threads on Pages nobody else uses; the tab's own person is put back after.
    const owner = await signupPerson(api, 'Branch Owner');
    const person = await signupPerson(api, 'Many Threads');
    for (let i = 0; i < 31; i++) await openThread(api, person, (await createPage(api, owner, `Branch ${String(i).padStart(2, '0')}`)).id);
    const tab = await ctx.newPage();
    await tab.goto(`${t.url}/`);
    const saved = await tab.evaluate(() => (globalThis as any).localStorage.getItem('switchboard.person') as string | null);
    try {
      await tab.evaluate((token) => (globalThis as any).localStorage.setItem('switchboard.person', token), person.token);
      await tab.reload();
      const list = tab.getByRole('list', { name: 'Threads' });
      const older = tab.getByRole('button', { name: 'Older conversations' });
      // No messages yet: newest opened first.
      await list.getByText('Branch 30').waitFor();
      await older.waitFor();
      expect(await list.locator('.thread').count()).toBe(30);
      expect(await list.getByText('Branch 00').count()).toBe(0);
      await older.click();
      await list.getByText('Branch 00').waitFor();
      expect(await list.locator('.thread').count()).toBe(31);
      expect(await older.count()).toBe(0);
    } finally {
      await tab.evaluate(
        (token) => (token === null ? (globalThis as any).localStorage.removeItem('switchboard.person') : (globalThis as any).localStorage.setItem('switchboard.person', token)),
        saved,
      );
      await tab.close();
    }
  });
});
