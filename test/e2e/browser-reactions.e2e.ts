import type { BrowserContext, Locator, Page } from 'playwright-core';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { httpClient, HttpClient } from '../support/http-client';
import { ReplyingBot, startReplyingBot } from '../support/replying-bot';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS } from '../factories/messaging.factory';
import { connectApp, createPage, pageWithApp, Person, signupPerson } from '../factories/registry.factory';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// The app and the Page subscribe to the fields of reactions, edits, ref links, feedback and thumbs besides the core ones.
const FIELDS = `${ALL_FIELDS},message_reactions,message_edits,messaging_referrals,messaging_feedback,response_feedback`;

// The chat app's reactions, edits, ref links, coupons and feedback requests (web/src/chat/message-tools.tsx, ref-link.ts, render.tsx),
// in Debian's chromium, against a spawned platform with real Postgres and Redis and a bot behind a real webhook.
describeBrowser('browser: reactions, edits, ref links, coupons and feedback requests in the chat app', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let biz: Awaited<ReturnType<typeof pageWithApp>>;
  let bot: ReplyingBot;
  let person: Person;
  let tab: Page;
  let psid: string;
  let threadId: string;
  const errors: string[] = [];
  const pageTokens = new Map<string, string>();

  const sendApi = (pageToken: string, body: unknown) =>
    api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(pageToken)}`, body);
  const messages = () => tab.getByRole('list', { name: 'Messages' });
  const byMid = (mid: string) => tab.locator(`.msg[data-mid="${mid}"]`);
  // With a mouse, a message's React and Edit show (and take clicks) while the pointer is over the message.
  async function tap(msg: Locator, button: string) {
    await msg.hover();
    await msg.getByRole('button', { name: button }).click();
  }
  const hasFocus = (what: string, el: Locator) =>
    waitFor(`focus on ${what}`, () => el.evaluate((e) => e === (globalThis as any).document.activeElement));
  // Events of one thread reach the bot in order: once the bot has this message, nothing earlier is on its way.
  async function settled(text: string) {
    await tab.getByRole('textbox', { name: 'Message' }).fill(text);
    await tab.keyboard.press('Enter');
    await waitFor(`the bot to get "${text}"`, () => bot.items.find((i) => i.message?.text === text && !i.message.is_echo));
  }

  beforeAll(async () => {
    [t, chromium] = await Promise.all([
      startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '500' } }),
      launchChromium(DESKTOP),
    ]);
    api = httpClient(t.url);
    biz = await pageWithApp(api);
    bot = await startReplyingBot(
      t.url,
      (pageId) => pageTokens.get(pageId) ?? biz.pageToken,
      async (item, b) => {
        if (item.postback) await b.send({ text: `You picked ${item.postback.payload}` });
        else if (item.message.text) await b.send({ text: `Got it: ${item.message.text}` });
      },
    );
    const sub = await api.post(`/v25.0/${biz.app.id}/subscriptions`, {
      access_token: biz.app.token,
      object: 'page',
      callback_url: bot.receiver.url,
      verify_token: 'verify-me',
      fields: FIELDS,
    });
    expect(sub.status).toBe(200);
    // The factory connects the app with the core five fields: the Page subscribes it to the new ones too.
    const pageSub = await api.post(`/v25.0/${biz.page.id}/subscribed_apps`, {
      access_token: biz.pageToken,
      subscribed_fields: FIELDS,
    });
    expect(pageSub.status).toBe(200);
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

  it("a ref link opens the Page's thread, the bot gets messaging_referrals once, and the ref leaves the address", async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}&ref=summer-sale`);
    await tab.getByRole('main', { name: 'Conversation with Acme' }).waitFor();
    // The ref is gone once the server has it: a reload opens the thread without sending it again.
    expect(new URL(tab.url()).search).toBe(`?page=${biz.page.id}`);
    const referral = await waitFor('the referral webhook', () => bot.items.find((i) => i.referral));
    expect(referral).toEqual({
      sender: { id: expect.any(String) },
      recipient: { id: biz.page.id },
      timestamp: expect.any(Number),
      referral: { ref: 'summer-sale', source: 'SHORTLINK', type: 'OPEN_THREAD' },
    });
    psid = referral.sender.id;
    threadId = (await api.get('/threads', { token: person.token })).body.data.find((th: any) => th.page_id === biz.page.id).id;

    await tab.reload();
    await tab.getByRole('main', { name: 'Conversation with Acme' }).waitFor();
    await tab.locator('[data-transport="websocket"]').waitFor();
    await settled('Do you ship to Finland?');
    await messages().getByText('Got it: Do you ship to Finland?').waitFor();
    expect(bot.items.filter((i) => i.referral)).toHaveLength(1);
  });

  it('a ref link to a new thread rides on its Get Started postback', async () => {
    const globex = await createPage(api, biz.owner, 'Globex');
    const token = await connectApp(api, biz.owner, globex.id, biz.app.id, FIELDS.split(','));
    pageTokens.set(globex.id, token);
    const profile = await api.post('/v25.0/me/messenger_profile', { get_started: { payload: 'GET_STARTED' } }, { token });
    expect(profile.status).toBe(200);

    await tab.goto(`${t.url}/?page=${globex.id}&ref=ad:42`);
    const welcome = tab.getByRole('listitem', { name: 'Welcome' });
    await welcome.getByRole('button', { name: 'Get Started' }).click();
    await messages().getByText('You picked GET_STARTED').waitFor();
    const postback = bot.items.find((i) => i.postback && i.recipient.id === globex.id);
    expect(postback.postback).toMatchObject({
      title: 'Get Started',
      payload: 'GET_STARTED',
      referral: { ref: 'ad:42', source: 'SHORTLINK', type: 'OPEN_THREAD' },
    });
    expect(bot.items.filter((i) => i.referral && i.recipient.id === globex.id)).toEqual([]);
    expect(new URL(tab.url()).search).toBe(`?page=${globex.id}`);
  });

  it('reacts to the bot’s message (message_reactions), and shows the bot’s and other devices’ reactions live', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.locator('[data-transport="websocket"]').waitFor();
    // Nothing below reloads the page: everything arrives over the socket.
    await tab.evaluate(() => ((globalThis as any).__sameDocument = true));
    const reply = tab.locator('.msg.page[data-mid]').filter({ hasText: 'Got it: Do you ship to Finland?' });
    const pageMid = (await reply.getAttribute('data-mid'))!;
    const mine = tab.locator('.msg.person[data-mid]').filter({ hasText: 'Do you ship to Finland?' });
    const myMid = (await mine.getAttribute('data-mid'))!;
    const reactionsTo = (mid: string) => bot.items.filter((i) => i.reaction?.mid === mid).map((i) => i.reaction);

    // Mouse: React, then Love.
    await tap(reply, 'React');
    const picker = reply.getByRole('group', { name: 'Pick a reaction' });
    await picker.getByRole('button', { name: 'Love' }).click();
    await picker.waitFor({ state: 'detached' });
    await reply.getByRole('img', { name: 'You reacted ❤️' }).waitFor();
    const love = await waitFor('the love reaction webhook', () => bot.items.find((i) => i.reaction));
    expect(love).toEqual({
      sender: { id: psid },
      recipient: { id: biz.page.id },
      timestamp: expect.any(Number),
      reaction: { reaction: 'love', emoji: '❤️', action: 'react', mid: pageMid },
    });

    // Keyboard: the picker opens on the current reaction (pressed); arrows move; Enter picks another.
    await reply.getByRole('button', { name: 'React' }).focus();
    await tab.keyboard.press('Enter');
    const loveButton = picker.getByRole('button', { name: 'Love' });
    await hasFocus('Love', loveButton);
    expect(await loveButton.getAttribute('aria-pressed')).toBe('true');
    for (let i = 0; i < 5; i++) await tab.keyboard.press('ArrowRight');
    await hasFocus('Like', picker.getByRole('button', { name: 'Like', exact: true }));
    await tab.keyboard.press('Enter');
    await reply.getByRole('img', { name: 'You reacted 👍' }).waitFor();
    // Picking the current one removes it.
    await tap(reply, 'React');
    await picker.getByRole('button', { name: 'Like', exact: true }).click();
    await reply.getByRole('group', { name: 'Reactions' }).waitFor({ state: 'detached' });
    await waitFor('react like, then unreact', () => reactionsTo(pageMid).length === 3);
    expect(reactionsTo(pageMid)).toEqual([
      { reaction: 'love', emoji: '❤️', action: 'react', mid: pageMid },
      { reaction: 'like', emoji: '👍', action: 'react', mid: pageMid },
      { reaction: 'like', emoji: '👍', action: 'unreact', mid: pageMid },
    ]);

    // The person's other device reacts: shown here too.
    const path = `/threads/${threadId}/messages/${pageMid}/reaction`;
    expect((await api.put(path, { reaction: '😮' }, { token: person.token })).status).toBe(200);
    await reply.getByRole('img', { name: 'You reacted 😮' }).waitFor();
    expect(await reply.getByRole('button', { name: 'React' }).getAttribute('aria-expanded')).toBe('false');
    await tap(reply, 'React');
    const wow = picker.getByRole('button', { name: 'Wow' });
    await hasFocus('Wow', wow);
    expect(await wow.getAttribute('aria-pressed')).toBe('true');
    // Escape closes it and gives focus back to React.
    await tab.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
    await hasFocus('React', reply.getByRole('button', { name: 'React' }));

    // The bot reacts to the person's message through the Send API: it appears without a reload; unreact removes it.
    const react = await sendApi(biz.pageToken, { recipient: { id: psid }, sender_action: 'react', payload: { message_id: myMid, reaction: '🎉' } });
    expect(react.status).toBe(200);
    await mine.getByRole('img', { name: 'Acme reacted 🎉' }).waitFor();
    await saveScreenshot(tab, 'chat-reactions.png');
    const unreact = await sendApi(biz.pageToken, { recipient: { id: psid }, sender_action: 'unreact', payload: { message_id: myMid } });
    expect(unreact.status).toBe(200);
    await mine.getByRole('group', { name: 'Reactions' }).waitFor({ state: 'detached' });
    await sendApi(biz.pageToken, { recipient: { id: psid }, sender_action: 'react', payload: { message_id: myMid, reaction: '👍' } });
    await mine.getByRole('img', { name: 'Acme reacted 👍' }).waitFor();
    // The person reacts to their own message too; both sides' reactions show.
    await tap(mine, 'React');
    await mine.getByRole('group', { name: 'Pick a reaction' }).getByRole('button', { name: 'Haha' }).click();
    await mine.getByRole('img', { name: 'You reacted 😆' }).waitFor();
    expect(await mine.getByRole('group', { name: 'Reactions' }).getByRole('img').count()).toBe(2);
    await waitFor('the haha reaction webhook', () => reactionsTo(myMid).length === 1);
    expect(reactionsTo(myMid)).toEqual([{ reaction: 'smile', emoji: '😆', action: 'react', mid: myMid }]);

    // At phone width the picker fits.
    await tab.setViewportSize(PHONE);
    await tap(reply, 'React');
    const box = (await reply.getByRole('group', { name: 'Pick a reaction' }).boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    await saveScreenshot(tab, 'chat-reaction-picker-phone.png');
    await hasFocus('the picker', reply.getByRole('group', { name: 'Pick a reaction' }).getByRole('button', { name: 'Wow' }));
    await tab.keyboard.press('Escape');
    await reply.getByRole('group', { name: 'Pick a reaction' }).waitFor({ state: 'detached' });
    await tab.setViewportSize(DESKTOP);
    expect(await tab.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
  });

  it('edits own text: Edited, message_edits, other devices’ edits live, the server’s refusal shown', async () => {
    const mine = tab.locator('.msg.person[data-mid]').filter({ hasText: 'Do you ship to Finland?' });
    const myMid = (await mine.getAttribute('data-mid'))!;
    const own = byMid(myMid);
    const reply = tab.locator('.msg.page[data-mid]').filter({ hasText: 'Got it: Do you ship to Finland?' });
    // Only the person's own text messages offer Edit.
    await reply.hover();
    expect(await reply.getByRole('button', { name: 'Edit message' }).count()).toBe(0);

    await tap(own, 'Edit message');
    const form = own.getByRole('form', { name: 'Edit message' });
    const text = form.getByRole('textbox', { name: 'New text' });
    expect(await text.inputValue()).toBe('Do you ship to Finland?');
    // Escape leaves it as it was.
    await tab.keyboard.press('Escape');
    await form.waitFor({ state: 'detached' });
    expect(await own.getByText('Edited').count()).toBe(0);

    await tap(own, 'Edit message');
    await text.fill('Do you ship to Norway?');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.waitFor({ state: 'detached' });
    await own.locator('.bubble').getByText('Do you ship to Norway?', { exact: true }).waitFor();
    await own.getByText('Edited', { exact: true }).waitFor();
    // Its reactions stay.
    await own.getByRole('img', { name: 'Acme reacted 👍' }).waitFor();
    const edit = await waitFor('the message_edits webhook', () => bot.items.find((i) => i.message_edit));
    expect(edit).toEqual({
      sender: { id: psid },
      recipient: { id: biz.page.id },
      timestamp: expect.any(Number),
      message_edit: { mid: myMid, text: 'Do you ship to Norway?', num_edit: 1 },
    });

    // Another device edits it up to the limit of five: the text follows live, and Edit goes.
    for (let i = 2; i <= 5; i++) {
      const res = await api.patch(`/threads/${threadId}/messages/${myMid}`, { text: `Norway or Sweden (${i})` }, { token: person.token });
      expect(res.body.num_edit).toBe(i);
    }
    await own.locator('.bubble').getByText('Norway or Sweden (5)', { exact: true }).waitFor();
    await own.hover();
    await own.getByRole('button', { name: 'React' }).waitFor();
    expect(await own.getByRole('button', { name: 'Edit message' }).count()).toBe(0);

    // The server refuses (15 minutes have passed by its clock, not by this device's): its words are shown.
    await settled('Actually, one more thing');
    await messages().getByText('Got it: Actually, one more thing').waitFor();
    const second = tab.locator('.msg.person[data-mid]').filter({ hasText: 'Actually, one more thing' });
    const secondMid = (await second.getAttribute('data-mid'))!;
    const late = byMid(secondMid);
    await tap(late, 'Edit message');
    await t.db.query('UPDATE messages SET timestamp = timestamp - 16 * 60000 WHERE mid = $1', [secondMid]);
    await late.getByRole('textbox', { name: 'New text' }).fill('Actually, never mind');
    await tab.keyboard.press('Enter');
    await late
      .getByRole('form', { name: 'Edit message' })
      .getByRole('alert')
      .getByText('A message can be edited for 15 minutes after it was sent')
      .waitFor();
    await saveScreenshot(tab, 'chat-edit-refused.png');
    await late.getByRole('button', { name: 'Cancel' }).click();
    await late.locator('.bubble').getByText('Actually, one more thing', { exact: true }).waitFor();
    expect(await late.getByText('Edited').count()).toBe(0);

    // After a reload, from history: the edits, the reactions, and no Edit where the limit or the window is past.
    await tab.reload();
    await own.locator('.bubble').getByText('Norway or Sweden (5)', { exact: true }).waitFor();
    await own.getByText('Edited', { exact: true }).waitFor();
    await own.getByRole('img', { name: 'Acme reacted 👍' }).waitFor();
    await own.getByRole('img', { name: 'You reacted 😆' }).waitFor();
    await reply.getByRole('img', { name: 'You reacted 😮' }).waitFor();
    for (const m of [own, late]) {
      await m.hover();
      await m.getByRole('button', { name: 'React' }).waitFor();
      expect(await m.getByRole('button', { name: 'Edit message' }).count()).toBe(0);
    }
    await waitFor('five message_edits webhooks', () => bot.items.filter((i) => i.message_edit).length === 5);
    await settled('That is all');
    expect(bot.items.filter((i) => i.message_edit).map((i) => i.message_edit.num_edit)).toEqual([1, 2, 3, 4, 5]);
  });

  it('shows a coupon without its code, reveals it (Messenger’s webhook, once), copies it, and shows another device’s reveal live', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.locator('[data-transport="websocket"]').waitFor();
    await tab.evaluate(() => ((globalThis as any).__sameDocument = true));
    await chromium.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    const coupon = {
      template_type: 'coupon',
      title: '10% off everything',
      subtitle: 'Limit 1 per customer',
      coupon_code: '10PERCENT',
      coupon_url: 'https://www.myshop.com/',
      coupon_url_button_title: 'Shop the sale',
      coupon_pre_message: "Here's a deal just for you!",
      image_url: `${bot.imageBase}/orange.svg`,
      payload: 'SUMMER-10',
    };
    const sent = await sendApi(biz.pageToken, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { attachment: { type: 'template', payload: coupon } } });
    expect(sent.status).toBe(200);
    const msg = byMid(sent.body.message_id);
    const card = msg.getByRole('group', { name: 'Coupon: 10% off everything' });
    await card.waitFor();
    await msg.getByText("Here's a deal just for you!").waitFor();
    await card.getByText('Limit 1 per customer').waitFor();
    const shop = card.getByRole('link', { name: 'Shop the sale' });
    expect(await shop.getAttribute('href')).toBe('https://www.myshop.com/');
    // Not on the page before the tap: the person's copy has no code.
    expect(await tab.content()).not.toContain('10PERCENT');
    await saveScreenshot(tab, 'chat-coupon.png');

    // Keyboard: Enter on Reveal code; the code shows, focus moves to Copy code; the bot gets the reveal.
    await card.getByRole('button', { name: 'Reveal code' }).focus();
    await tab.keyboard.press('Enter');
    await card.locator('code').getByText('10PERCENT', { exact: true }).waitFor();
    const copy = card.getByRole('button', { name: 'Copy code' });
    await hasFocus('Copy code', copy);
    expect(await card.getByRole('button', { name: 'Reveal code' }).count()).toBe(0);
    const revealed = await waitFor('the reveal webhook', () => bot.items.find((i) => i.template));
    expect(revealed).toEqual({
      sender: { id: psid },
      recipient: { id: biz.page.id },
      timestamp: expect.any(Number),
      template: { type: 'coupon', payload: 'SUMMER-10', coupon_code: '10PERCENT' },
    });
    await tab.keyboard.press('Enter');
    await card.getByRole('status').getByText('Code copied').waitFor();
    expect(await tab.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe('10PERCENT');
    await saveScreenshot(tab, 'chat-coupon-revealed.png');

    // Another device reveals a second coupon: the code appears here without a reload, and the bot hears it once.
    const second = await sendApi(biz.pageToken, {
      recipient: { id: psid },
      messaging_type: 'RESPONSE',
      message: { attachment: { type: 'template', payload: { template_type: 'coupon', title: 'Free shipping', coupon_code: 'SHIPFREE' } } },
    });
    const secondCard = byMid(second.body.message_id).getByRole('group', { name: 'Coupon: Free shipping' });
    await secondCard.getByText('Terms may apply.').waitFor();
    await secondCard.getByRole('button', { name: 'Reveal code' }).waitFor();
    const elsewhere = await api.post(`/threads/${threadId}/messages/${second.body.message_id}/reveal`, undefined, { token: person.token });
    expect(elsewhere.status).toBe(200);
    await secondCard.locator('code').getByText('SHIPFREE', { exact: true }).waitFor();
    // Both codes stay after a reload, from history.
    expect(await tab.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
    await tab.reload();
    await card.locator('code').getByText('10PERCENT', { exact: true }).waitFor();
    await secondCard.locator('code').getByText('SHIPFREE', { exact: true }).waitFor();
    await settled('Thanks for the coupons');
    expect(bot.items.filter((i) => i.template).map((i) => i.template.coupon_code)).toEqual(['10PERCENT', 'SHIPFREE']);
  });

  it('answers a feedback request: the button opens the question, stars and words, Submit; the bot gets messaging_feedback once; another device’s answer shows live', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.locator('[data-transport="websocket"]').waitFor();
    const survey = (id: string, question: object) => ({
      template_type: 'customer_feedback',
      title: 'Rate your experience',
      subtitle: 'Two taps, we promise',
      button_title: 'Rate Experience',
      feedback_screens: [{ questions: [{ id, ...question }] }],
      business_privacy: { url: 'https://www.myshop.com/privacy' },
    });
    const send = (payload: object) => sendApi(biz.pageToken, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { attachment: { type: 'template', payload } } });
    const sent = await send(survey('service', { type: 'csat', follow_up: { type: 'free_form', placeholder: 'What went well?' } }));
    expect(sent.status).toBe(200);
    const card = byMid(sent.body.message_id).getByRole('group', { name: 'Feedback request: Rate your experience' });
    await card.getByText('Two taps, we promise').waitFor();
    await card.getByRole('button', { name: 'Rate Experience' }).click();
    const stars = card.getByRole('group', { name: 'How would you rate your experience?' });
    await stars.getByRole('button', { name: '4 stars' }).click();
    expect(await stars.getByRole('button', { name: '4 stars' }).getAttribute('aria-pressed')).toBe('true');
    await card.getByPlaceholder('What went well?').fill('Quick and friendly');
    expect(await card.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe('https://www.myshop.com/privacy');
    await saveScreenshot(tab, 'chat-feedback.png');
    await card.getByRole('button', { name: 'Submit' }).click();
    await card.getByText('Thanks for your feedback').waitFor();
    await card.getByText('You gave 4 of 5').waitFor();
    const answered = await waitFor('the feedback webhook', () => bot.items.find((i) => i.messaging_feedback));
    expect(answered.messaging_feedback).toEqual({
      feedback_screens: [{ screen_id: 0, questions: { service: { type: 'csat', payload: '4', follow_up: { type: 'free_form', payload: 'Quick and friendly' } } } }],
    });
    await saveScreenshot(tab, 'chat-feedback-answered.png');

    // Another device answers an NPS request: the answer shows here without a reload.
    const second = await send(survey('recommend', { type: 'nps' }));
    const secondCard = byMid(second.body.message_id).getByRole('group', { name: 'Feedback request: Rate your experience' });
    await secondCard.getByRole('button', { name: 'Rate Experience' }).waitFor();
    const elsewhere = await api.post(`/threads/${threadId}/messages/${second.body.message_id}/feedback`, { answers: [{ question_id: 'recommend', score: 9 }] }, { token: person.token });
    expect(elsewhere.status).toBe(200);
    await secondCard.getByText('You gave 9 of 10').waitFor();
    await settled('Thanks for asking');
    expect(bot.items.filter((i) => i.messaging_feedback)).toHaveLength(2);
  });

  it('rates a bot’s answer with a thumb (response_feedback to its app), changes it, and shows another device’s thumb live', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.locator('[data-transport="websocket"]').waitFor();
    const sent = await sendApi(biz.pageToken, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Your parcel left the warehouse' } });
    const thumbs = byMid(sent.body.message_id).getByRole('group', { name: 'Rate this response' });
    await thumbs.getByRole('button', { name: 'Good response' }).click();
    await waitFor('the thumbs up', () => bot.items.find((i) => i.response_feedback?.mid === sent.body.message_id));
    expect(await thumbs.getByRole('button', { name: 'Good response' }).getAttribute('aria-pressed')).toBe('true');
    await thumbs.getByRole('button', { name: 'Bad response' }).click();
    await waitFor('the thumbs down', () => bot.items.filter((i) => i.response_feedback?.mid === sent.body.message_id).length === 2);
    expect(bot.items.filter((i) => i.response_feedback).map((i) => i.response_feedback.feedback)).toEqual(['Good response', 'Bad response']);
    expect(await thumbs.getByRole('button', { name: 'Good response' }).getAttribute('aria-pressed')).toBe('false');
    await saveScreenshot(tab, 'chat-thumbs.png');
    // Another device gives the next answer a thumb: it shows here without a reload.
    const next = await sendApi(biz.pageToken, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'It arrives Tuesday' } });
    const nextThumbs = byMid(next.body.message_id).getByRole('group', { name: 'Rate this response' });
    await nextThumbs.waitFor();
    expect((await api.put(`/threads/${threadId}/messages/${next.body.message_id}/response-feedback`, { feedback: 'good' }, { token: person.token })).status).toBe(200);
    await waitFor('the other device’s thumb', async () => (await nextThumbs.getByRole('button', { name: 'Good response' }).getAttribute('aria-pressed')) === 'true');
    // The person's own messages take none.
    await settled('Thanks!');
    expect(await tab.locator('.msg.person').getByRole('group', { name: 'Rate this response' }).count()).toBe(0);
  });

  it('replies to a message: Reply, the bar above the composer, Escape cancels; the bot gets reply_to and the quote shows', async () => {
    await tab.goto(`${t.url}/?page=${biz.page.id}`);
    await tab.locator('[data-transport="websocket"]').waitFor();
    const question = await sendApi(biz.pageToken, { recipient: { id: psid }, messaging_type: 'RESPONSE', message: { text: 'Which colour?' } });
    const asked = byMid(question.body.message_id);
    await asked.waitFor();
    const box = tab.getByRole('textbox', { name: 'Message' });

    // Escape takes the reply back; nothing is sent.
    await tap(asked, 'Reply');
    const bar = tab.getByRole('status', { name: 'Replying to Acme: Which colour?' });
    await bar.waitFor();
    await hasFocus('the message box', box);
    await tab.keyboard.press('Escape');
    await bar.waitFor({ state: 'detached' });

    await tap(asked, 'Reply');
    await box.fill('Green, please');
    await tab.keyboard.press('Enter');
    await bar.waitFor({ state: 'detached' });
    const item = await waitFor('the reply webhook', () => bot.items.find((i) => i.message?.text === 'Green, please' && !i.message.is_echo));
    expect(item.message.reply_to).toEqual({ mid: question.body.message_id });
    const sent = byMid(item.message.mid);
    await sent.locator('blockquote').waitFor();
    expect(await sent.locator('blockquote').getAttribute('aria-label')).toBe('You replied to Acme: Which colour?');
    // Still quoted once the thread is read again from the server.
    await tab.reload();
    await byMid(item.message.mid).locator('blockquote[aria-label="You replied to Acme: Which colour?"]').waitFor();
  });
});
