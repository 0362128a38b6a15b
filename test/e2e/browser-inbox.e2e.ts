import type { BrowserContext, Page, Route } from 'playwright-core';
import sharp from 'sharp';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { startStaticServer, StaticServer } from '../support/static-server';
import { waitFor } from '../support/wait-for';
import { openThread, pageSays, personSays, psidOf } from '../factories/messaging.factory';
import { connectApp, createApp, createPage, Person, signupPerson } from '../factories/registry.factory';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const FIELDS = ['messages', 'messaging_postbacks', 'message_echoes', 'message_reads', 'standby', 'messaging_handovers'];

// The console's Page Inbox (web/src/console/inbox-view.tsx, rules in inbox.ts) in Debian's chromium against a
// spawned platform with real Postgres and Redis: a Page whose primary bot has the conversation; the Page's admin
// reads it, takes over, replies (the person gets it), is refused once the bot took it back, and hands it back.
describeBrowser('browser: the Page Inbox in the console', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let bot: BotReceiver;
  // A local "CDN" for a persona's picture (the platform fetches it once).
  let cdn: StaticServer;
  let cdnUrl: string;
  const errors: string[] = [];

  beforeAll(async () => {
    [t, chromium, bot] = await Promise.all([
      startTestPlatform({ env: { OUTBOUND_ALLOWLIST: '127.0.0.0/8' } }),
      launchChromium(DESKTOP),
      startBotReceiver('verify-me'),
    ]);
    api = httpClient(t.url);
    const face = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#4a8' } }).png().toBuffer();
    cdn = await startStaticServer({ '/olga.png': { type: 'image/png', body: face } });
    cdnUrl = cdn.url;
  });
  afterAll(async () => {
    await cdn?.close();
    await chromium?.close();
    await bot?.close();
    await t?.close();
  });
  afterEach(() => expect(errors).toEqual([]));

  async function newTab(token: string): Promise<Page> {
    const tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
    await tab.goto(`${t.url}/console`);
    await tab.evaluate((v) => (globalThis as any).localStorage.setItem('switchboard.console', v), token);
    return tab;
  }

  // The webhook items the bot received (messaging and standby alike).
  const botItems = (): any[] =>
    bot.received.flatMap((r) =>
      (JSON.parse(r.body.toString('utf8')).entry ?? []).flatMap((e: any) => [...(e.messaging ?? []), ...(e.standby ?? [])]),
    );

  async function business(owner: Person) {
    const page = await createPage(api, owner, 'Acme');
    const app = await createApp(api, owner, 'Shop bot');
    bot.secrets.push(app.secret);
    const pageToken = await connectApp(api, owner, page.id, app.id, FIELDS);
    const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: 'verify-me',
      fields: FIELDS.join(','),
    });
    expect(sub.status).toBe(200);
    const role = await api.put(`/pages/${page.id}/apps/${app.id}/handover-role`, { role: 'primary' }, { token: owner.token });
    expect(role.status).toBe(200);
    return { page, app, pageToken };
  }

  it('an admin reads a conversation the bot has, takes over, replies to the person, and hands it back', async () => {
    const owner = await signupPerson(api, 'Olga Owner');
    const { page, app, pageToken } = await business(owner);
    const person = await signupPerson(api, 'Pat Person');
    const thread = await openThread(api, person, page.id);
    const psid = await psidOf(t.db, thread.id);
    const first = await personSays(api, person, thread.id, 'Where is my order #1234?');
    await waitFor('the message at the bot', () => botItems().find((m) => m.message?.mid === first.mid));
    const personMessages = async () =>
      (await api.get(`/threads/${thread.id}/messages?after_seq=0&limit=50`, { token: person.token })).body.data as any[];
    const inboxRow = async () =>
      ((await api.get(`/pages/${page.id}/inbox`, { token: owner.token })).body.data as any[]).find((r) => r.id === thread.id);

    const tab = await newTab(owner.token);
    await tab.goto(`${t.url}/console/pages/${page.id}`);
    const inbox = tab.getByRole('region', { name: 'Inbox' });
    const row = inbox.getByRole('list', { name: 'Conversations' }).locator(`[data-thread="${thread.id}"]`);
    await row.getByText('Pat Person', { exact: true }).waitFor();
    await row.getByText('Where is my order #1234?').waitFor();
    await row.getByLabel('1 unread').waitFor();
    await row.getByText('Bot: Shop bot').waitFor();
    // The console watches the Page's inbox over its WebSocket: changes are pushed, polling slows to a safety net.
    await inbox.getByTestId('inbox-live').getByText('Live', { exact: true }).waitFor();

    // Opening it shows the message and marks it read; the bot has it, so the reply box is disabled.
    await row.click();
    const conv = inbox.getByRole('region', { name: 'Pat Person' });
    const messages = conv.getByRole('list', { name: 'Messages with Pat Person' });
    await messages.locator('.from-person').getByText('Where is my order #1234?').waitFor();
    await waitFor('the unread badge gone', async () => (await row.getByTestId('unread').count()) === 0);
    await waitFor('the thread read on the server', async () => (await inboxRow())?.unread_count === 0);
    const reply = conv.getByRole('textbox', { name: 'Reply to Pat Person' });
    expect(await reply.isDisabled()).toBe(true);
    await conv.getByText(/Shop bot is handling this conversation/).waitFor();
    expect(await conv.getByTestId('controlled-by').textContent()).toBe('Bot: Shop bot');
    expect(await conv.getByRole('button', { name: 'Hand back to bot' }).count()).toBe(0);

    // The bot's coupon shows its code to the Page's people at once; the person's reveal changes no seq, and still
    // shows in the open pane without reopening it (the pushed hint re-reads the latest messages).
    const coupon = await pageSays(api, pageToken, psid, {
      attachment: { type: 'template', payload: { template_type: 'coupon', title: 'Ten off', coupon_code: 'TENOFF' } },
    });
    expect(coupon.status).toBe(200);
    const couponItem = messages.locator(`[data-mid="${coupon.body.message_id}"]`);
    await couponItem.getByText(/TENOFF.*not revealed yet/).waitFor();
    const revealed = await api.post(`/threads/${thread.id}/messages/${coupon.body.message_id}/reveal`, undefined, { token: person.token });
    expect(revealed.status).toBe(200);
    await couponItem.getByText(/TENOFF.*· revealed/).waitFor({ timeout: 10_000 });

    // Take over: the bot hears of it, the reply box opens.
    await conv.getByRole('button', { name: 'Take over' }).click();
    await conv.getByTestId('controlled-by').getByText('You (Page Inbox)').waitFor();
    await row.getByText('You (Page Inbox)').waitFor();
    await waitFor('take_thread_control at the bot', () => botItems().find((m) => m.take_thread_control));
    expect(await reply.isDisabled()).toBe(false);

    // The reply reaches the person, and shows on the Page's side of the pane; while it is written, the person sees
    // the Page typing.
    const personSocket = await connectPerson(t.url, person.token);
    await reply.fill('Hi Pat, Olga here. It ships tomorrow.');
    await personSocket.waitFor('the Page typing', (e) => e.type === 'typing' && e.on === true && e.thread_id === thread.id);
    await personSocket.close();
    await reply.press('Enter');
    await messages.locator('.from-page').getByText('Hi Pat, Olga here. It ships tomorrow.').waitFor();
    expect(await reply.inputValue()).toBe('');
    // Said by whom, for the Page's people: the inbox's own reply.
    await messages.locator('.from-page', { hasText: 'Hi Pat, Olga here.' }).locator('.inbox-persona', { hasText: 'You (Page Inbox)' }).waitFor();
    const delivered = await waitFor('the reply in the person’s thread', async () =>
      (await personMessages()).find((m) => m.sender === 'page' && m.text === 'Hi Pat, Olga here. It ships tomorrow.'),
    );
    expect(delivered.sender).toBe('page');

    // The person answers: it is pushed to the open pane and the list (well before the 30 s safety poll), and stays read.
    // It replies to the Page's message (reply_to): the pane says so above it.
    const answer = await api.post(
      `/threads/${thread.id}/messages`,
      { text: 'Great, thanks!', client_message_id: 'answer-1', reply_to: { mid: delivered.mid } },
      { token: person.token },
    );
    expect(answer.status).toBe(201);
    await messages.locator('.from-person').getByText('Great, thanks!').waitFor({ timeout: 10_000 });
    await messages
      .locator(`[data-mid="${answer.body.mid}"] .inbox-reply`)
      .getByText('Replying to the Page: Hi Pat, Olga here. It ships tomorrow.')
      .waitFor();
    await row.getByText('Great, thanks!').waitFor({ timeout: 10_000 });
    await waitFor('the answer read on the server', async () => (await inboxRow())?.unread_count === 0);
    // The question, the coupon, the reply and the answer: each once, however many times the latest were re-read.
    expect(await messages.locator('.inbox-msg').count()).toBe(4);
    await saveScreenshot(tab, 'console-inbox.png', { fullPage: true });

    // The bot takes the thread back while the console still shows it as the Inbox's (its list reads are held):
    // the send is refused, and the server's message is shown.
    let held: Route[] = [];
    let holding = true;
    const listUrl = (u: URL) => u.pathname === `/pages/${page.id}/inbox`;
    await tab.route(listUrl, (r) => (holding ? held.push(r) : r.continue()));
    const taken = await api.post(`/v25.0/me/take_thread_control?access_token=${encodeURIComponent(pageToken)}`, { recipient: { id: psid } });
    expect(taken.status).toBe(200);
    await reply.fill('One more thing…');
    await reply.press('Enter');
    await conv
      .getByRole('alert')
      .getByText('The bot Shop bot controls this conversation (handover protocol): take it over first', { exact: true })
      .waitFor();
    expect(await reply.inputValue()).toBe('One more thing…');
    holding = false;
    for (const r of held) await r.continue();
    held = [];
    await tab.unroute(listUrl);
    // The list read again says who has it now.
    await conv.getByTestId('controlled-by').getByText('Bot: Shop bot').waitFor();
    await waitFor('the reply box disabled', () => reply.isDisabled());
    expect((await personMessages()).some((m) => m.text === 'One more thing…')).toBe(false);

    // A persona for the Page's people: added in the console, then replied as (the person sees the name).
    const personasBox = inbox.locator('details.inbox-personas');
    await personasBox.locator('summary').click();
    const personaForm = personasBox.getByRole('form', { name: 'New persona' });
    await personaForm.getByLabel('Name').fill('Olga (support)');
    await personaForm.getByLabel('Picture URL').fill(`${cdnUrl}/olga.png`);
    await personaForm.getByRole('button', { name: 'Add persona' }).click();
    await personasBox.getByRole('list', { name: 'Personas' }).getByText('Olga (support)').waitFor();

    // Take over again, send as the persona, and hand back: the bot controls it again.
    await conv.getByRole('button', { name: 'Take over' }).click();
    await waitFor('the reply box enabled', async () => !(await reply.isDisabled()));
    await conv.getByRole('combobox', { name: 'Reply as' }).selectOption({ label: 'Olga (support)' });
    await conv.getByRole('button', { name: 'Send' }).click();
    await messages.locator('.from-page').getByText('One more thing…').waitFor();
    await messages.locator('.from-page', { hasText: 'One more thing…' }).locator('.inbox-persona', { hasText: 'as Olga (support)' }).waitFor();
    const asPersona = await waitFor('the persona reply at the person', async () =>
      (await personMessages()).find((m) => m.text === 'One more thing…'),
    );
    expect(asPersona.persona).toMatchObject({ name: 'Olga (support)' });
    await conv.getByRole('button', { name: 'Hand back to bot' }).click();
    await conv.getByTestId('controlled-by').getByText('Bot: Shop bot').waitFor();
    await waitFor('the reply box disabled again', () => reply.isDisabled());
    const owns = await api.get(`/v25.0/me/thread_owner?recipient=${psid}&access_token=${encodeURIComponent(pageToken)}`);
    expect(owns.body.data[0]?.thread_owner.app_id).toBe(app.id);
    // The bot answers again: the pane names it on its message.
    const botSays = await api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(pageToken)}`, {
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      message: { text: 'Anything else I can do?' },
    });
    expect(botSays.status).toBe(200);
    await messages.locator('.from-page', { hasText: 'Anything else I can do?' }).locator('.inbox-persona', { hasText: 'Shop bot' }).waitFor();
    expect((await inboxRow()).control).toMatchObject({ handover: true, inbox_has_control: false, controller_app_id: app.id });
    expect(await conv.getByRole('alert').count()).toBe(0);

    // At phone width one pane at a time: the open conversation with a way back to the list; no sideways scroll.
    await tab.setViewportSize(PHONE);
    await conv.getByRole('button', { name: 'Back to conversations' }).waitFor();
    expect(await tab.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await saveScreenshot(tab, 'console-inbox-phone.png', { fullPage: true });
    await conv.getByRole('button', { name: 'Back to conversations' }).click();
    await row.waitFor();
    await tab.setViewportSize(DESKTOP);

    // Filing: assigned to herself, then marked done, it leaves the Inbox for Done; the person writing again brings it back.
    await row.click();
    await conv.getByRole('combobox', { name: 'Assign the conversation with Pat Person' }).selectOption({ label: 'Me (Olga Owner)' });
    await row.getByText('Assigned to you').waitFor();
    expect((await inboxRow())?.assignee).toMatchObject({ id: owner.id });
    await conv.getByRole('button', { name: 'Mark done' }).click();
    await row.waitFor({ state: 'detached' });
    const filters = inbox.getByRole('group', { name: 'Show' });
    await filters.getByRole('button', { name: 'Done' }).click();
    await row.getByText('Pat Person', { exact: true }).waitFor();
    // Found by name; someone else's name finds nothing.
    const search = filters.getByRole('searchbox', { name: 'Find a conversation by name' });
    await search.fill('nobody here');
    await row.waitFor({ state: 'detached' });
    await search.fill('pat');
    await row.getByText('Pat Person', { exact: true }).waitFor();
    await search.fill('');
    await filters.getByRole('button', { name: 'Inbox' }).click();
    await row.waitFor({ state: 'detached' });
    await personSays(api, person, thread.id, 'Sorry, one more question');
    await row.getByText('Sorry, one more question').waitFor({ timeout: 10_000 });

    // A note for the Page's people: shown to them, never to the person.
    await row.click();
    const notes = conv.locator('details.inbox-notes');
    await notes.locator('summary').click();
    await notes.getByRole('textbox', { name: "A note for the Page's people" }).fill('Asked twice about the order: call them.');
    await notes.getByRole('button', { name: 'Add note' }).click();
    await notes.getByRole('list', { name: 'Notes' }).getByText('Asked twice about the order: call them.').waitFor();
    expect((await personMessages()).some((m) => m.text?.includes('call them'))).toBe(false);
    await tab.close();
  });
});
