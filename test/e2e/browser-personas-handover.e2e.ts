import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, psidOf } from '../factories/messaging.factory';
import { connectApp, createApp, pageWithApp, Person, signupPerson } from '../factories/registry.factory';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

// The chat app's persona bylines (web/src/chat/persona.ts) and the console's handover roles
// (web/src/console/handover.ts), in Debian's chromium against a spawned platform with real Postgres and Redis.
// The persona's picture comes from a local "CDN": the platform fetches it once and serves it signed.
describeBrowser('browser: personas in the chat app, handover roles in the console', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let cdn: http.Server;
  let cdnUrl: string;
  let biz: Awaited<ReturnType<typeof pageWithApp>>;
  let person: Person;
  const errors: string[] = [];

  const graph = (path: string, body: unknown) =>
    api.post(`/v25.0/${path}?access_token=${encodeURIComponent(biz.pageToken)}`, body);

  async function newTab(tokenKey: string, token: string): Promise<Page> {
    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/console`);
    await tab.evaluate(([k, v]) => (globalThis as any).localStorage.setItem(k, v), [tokenKey, token]);
    return tab;
  }

  beforeAll(async () => {
    [t, chromium] = await Promise.all([
      startTestPlatform({ env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8' } }),
      launchChromium(DESKTOP),
    ]);
    api = httpClient(t.url);
    const face = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#c84' } })
      .png()
      .toBuffer();
    cdn = http.createServer((req, res) => {
      if (req.url === '/ada.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(face);
      res.writeHead(404).end('no');
    });
    await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
    cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
    biz = await pageWithApp(api);
    person = await signupPerson(api, 'Pat Person');
  });
  afterAll(async () => {
    await chromium?.close();
    cdn?.closeAllConnections();
    await new Promise((r) => cdn?.close(r));
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  it("shows the persona's picture and name on the bot's messages, live and after a reload; initials when the picture fails", async () => {
    const created = await graph('me/personas', { name: 'Ada (support)', profile_picture_url: `${cdnUrl}/ada.png` });
    expect(created.status).toBe(200);
    const personaId: string = created.body.id;
    const thread = await openThread(api, person, biz.page.id);
    const psid = await psidOf(t.db, thread.id);
    const say = async (text: string, persona?: string) => {
      const res = await graph('me/messages', {
        recipient: { id: psid },
        messaging_type: 'RESPONSE',
        message: { text },
        ...(persona ? { persona_id: persona } : {}),
      });
      expect(res.status).toBe(200);
    };

    const tab = await newTab('switchboard.person', person.token);
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.getByRole('main', { name: 'Conversation with Acme' }).waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await tab.evaluate(() => ((globalThis as any).__sameDocument = true));
    // The person writes first (the 24-hour window opens), then the bot answers as Ada.
    await tab.getByRole('textbox', { name: 'Message' }).fill('Can I talk to a human?');
    await tab.keyboard.press('Enter');
    await tab.locator('.msg.person[data-mid] [data-status="Sent"]').waitFor();
    await say('Ada here, how can I help?', personaId);

    const messages = tab.getByRole('list', { name: 'Messages' });
    const first = tab.locator('.msg.page[data-mid]').filter({ hasText: 'Ada here, how can I help?' });
    const byline = first.locator('.persona-byline');
    await byline.getByText('Ada (support) · Acme', { exact: true }).waitFor();
    const picture = byline.locator('img.persona-avatar');
    expect(await picture.getAttribute('src')).toMatch(/\/media\/\d+\/[^?]+\?exp=\d+&sig=/);
    await waitFor('the persona picture to load', () =>
      picture.evaluate((img: any) => img.complete && img.naturalWidth > 0),
    );
    // Decorative beside the name: no second announcement of who wrote it.
    expect(await picture.getAttribute('alt')).toBe('');

    // Her next message shares the byline; the Page's own and a message after the person's get theirs again.
    await say('Let me look at your order.', personaId);
    await say('Our opening hours are 9 to 5.');
    await messages.getByText('Our opening hours are 9 to 5.').waitFor();
    const byText = (text: string) => tab.locator('.msg.page[data-mid]').filter({ hasText: text });
    expect(await byText('Let me look at your order.').locator('.persona-byline').count()).toBe(0);
    expect(await byText('Our opening hours are 9 to 5.').locator('.persona-byline').count()).toBe(0);
    await say('Back to you: found it!', personaId);
    await byText('Back to you: found it!').locator('.persona-byline').getByText('Ada (support) · Acme').waitFor();
    expect(await tab.locator('.persona-byline').count()).toBe(2);

    // Typing as Ada: the indicator says who, under her byline; her message then replaces it.
    const typed = await graph('me/messages', { recipient: { id: psid }, sender_action: 'typing_on', persona_id: personaId });
    expect(typed.status).toBe(200);
    const typing = tab.getByRole('listitem', { name: 'Ada (support) (Acme) is typing' });
    await typing.locator('.persona-byline').getByText('Ada (support) · Acme').waitFor();
    await say('One more thing.', personaId);
    await byText('One more thing.').waitFor();
    await typing.waitFor({ state: 'detached' });
    expect(await tab.locator('.persona-byline').count()).toBe(2);
    await saveScreenshot(tab, 'chat-persona.png');
    expect(await tab.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);

    // After a reload, from history: the same.
    await tab.reload();
    await byline.getByText('Ada (support) · Acme', { exact: true }).waitFor();
    await waitFor('the persona picture to load after the reload', () =>
      picture.evaluate((img: any) => img.complete && img.naturalWidth > 0),
    );
    expect(await tab.locator('.persona-byline').count()).toBe(2);

    // The picture fails to load (as an expired or revoked signed URL does): her initial shows at once, and the
    // app re-fetches that message, once, for fresh URLs; those load, and the picture comes back.
    const seq = Number(await first.getAttribute('data-seq'));
    const mediaPath = new URL((await picture.getAttribute('src'))!).pathname;
    const refetches: string[] = [];
    tab.on('request', (r) => r.url().includes(`/messages?after_seq=${seq - 1}&limit=1`) && refetches.push(r.url()));
    const pictureUrl = (url: URL) => url.pathname === mediaPath;
    let refused = 0;
    await tab.route(pictureUrl, (route) =>
      refetches.length ? route.continue() : (refused++, route.fulfill({ status: 403 })),
    );
    // Noted by a MutationObserver from the document's start: the initial may show only until the re-fetch lands.
    await tab.addInitScript(
      (mid) => {
        const g = globalThis as any;
        g.__initialShown = '';
        new g.MutationObserver(() => {
          const el = g.document.querySelector(`.msg[data-mid="${mid}"] .persona-byline span.persona-avatar`);
          if (el && !g.__initialShown) g.__initialShown = el.textContent;
        }).observe(g.document, { subtree: true, childList: true });
      },
      (await first.getAttribute('data-mid'))!,
    );
    await tab.reload();
    await first.waitFor();
    await waitFor('the picture to load after the re-fetch', () =>
      picture.evaluate((img: any) => img.complete && img.naturalWidth > 0),
    );
    expect(refused).toBeGreaterThan(0);
    expect(await tab.evaluate(() => (globalThis as any).__initialShown)).toBe('A');
    expect(refetches).toHaveLength(1);
    await tab.unroute(pictureUrl);
    await tab.close();
  });

  it('console: an admin gives two apps handover roles, and a new primary makes the previous one secondary', async () => {
    const agent = await createApp(api, biz.owner, 'Agent inbox');
    await connectApp(api, biz.owner, biz.page.id, agent.id, ['messages', 'messaging_handovers', 'standby']);
    const roles = async () =>
      Object.fromEntries(
        ((await api.get(`/pages/${biz.page.id}/apps`, { token: biz.owner.token })).body.data as any[]).map((a) => [
          a.name,
          a.handover_role,
        ]),
      );
    expect(await roles()).toEqual({ Bot: null, 'Agent inbox': null });

    const tab = await newTab('switchboard.console', biz.owner.token);
    await tab.goto(`${t.url}/console/pages/${biz.page.id}`);
    const botRole = tab.getByRole('combobox', { name: 'Handover role of Bot' });
    const agentRole = tab.getByRole('combobox', { name: 'Handover role of Agent inbox' });
    await agentRole.waitFor();
    expect(await botRole.inputValue()).toBe('');
    expect(await agentRole.inputValue()).toBe('');
    await tab.getByText('without one, every app gets every event').waitFor();
    expect(await tab.getByTestId('no-standby').count()).toBe(0);

    const status = tab.getByRole('status').filter({ hasText: /is now|has no role/ });
    await botRole.selectOption('primary');
    await status.getByText('Bot is now primary.', { exact: true }).waitFor();
    await agentRole.selectOption('secondary');
    await status.getByText('Agent inbox is now secondary.', { exact: true }).waitFor();
    expect(await botRole.inputValue()).toBe('primary');
    expect(await agentRole.inputValue()).toBe('secondary');
    expect(await roles()).toEqual({ Bot: 'primary', 'Agent inbox': 'secondary' });
    // Bot was connected with the core fields only: once there is a primary, it would get nothing on standby.
    expect(await tab.getByTestId('no-standby').textContent()).toMatch(/standby.*: Bot\.$/);
    await saveScreenshot(tab, 'console-handover-roles.png', { fullPage: true });

    // Subscribing Bot to standby in place: the notice goes, and its page token is the same one.
    await tab.locator('details.fields-edit').filter({ hasText: 'messages, messaging_postbacks' }).first().locator('summary').click();
    const botFields = tab.getByRole('form', { name: 'Webhook fields of Bot' });
    await botFields.getByRole('checkbox', { name: 'standby' }).check();
    await botFields.getByRole('button', { name: 'Save fields' }).click();
    await waitFor('the notice gone', async () => (await tab.getByTestId('no-standby').count()) === 0 || undefined);
    const bot = ((await api.get(`/pages/${biz.page.id}/apps`, { token: biz.owner.token })).body.data as any[]).find((a) => a.name === 'Bot');
    expect(bot.subscribed_fields).toContain('standby');
    expect((await api.get(`/v25.0/me?access_token=${encodeURIComponent(biz.pageToken)}`)).status).toBe(200);

    // The second becomes primary: the server makes the first secondary, and the console says so.
    await agentRole.selectOption('primary');
    await status.getByText('Agent inbox is now primary; Bot is now secondary.', { exact: true }).waitFor();
    expect(await agentRole.inputValue()).toBe('primary');
    expect(await botRole.inputValue()).toBe('secondary');
    expect(await roles()).toEqual({ Bot: 'secondary', 'Agent inbox': 'primary' });

    // The server's refusal is shown in its words: the app was disconnected elsewhere meanwhile (404), and the
    // list read again no longer has it.
    expect((await api.delete(`/pages/${biz.page.id}/apps/${agent.id}`, { token: biz.owner.token })).status).toBe(204);
    await agentRole.selectOption('');
    await tab.getByRole('alert').getByText(`App ${agent.id} is not connected to page ${biz.page.id}`).waitFor();
    await agentRole.waitFor({ state: 'detached' });
    expect(await botRole.inputValue()).toBe('secondary');
    // With no primary left, every app gets every event: the standby note goes.
    expect(await tab.getByTestId('no-standby').count()).toBe(0);
    await botRole.selectOption('');
    await status.getByText('Bot has no role now.', { exact: true }).waitFor();
    expect(await tab.getByRole('alert').count()).toBe(0);
    expect(await roles()).toEqual({ Bot: null });

    await tab.setViewportSize(PHONE);
    // The table scrolls inside its box at phone width; the page itself does not scroll sideways.
    await tab.getByRole('cell', { name: 'Bot', exact: true }).waitFor();
    expect(await tab.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      PHONE.width,
    );
    await saveScreenshot(tab, 'console-handover-phone.png', { fullPage: true });
    await tab.close();
  });
});
