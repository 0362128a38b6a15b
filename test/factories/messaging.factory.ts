import { randomBytes } from 'node:crypto';
import { BotReceiver, waitForEntry } from '../support/bot-receiver';
import { startReplyingBot } from '../support/replying-bot';
import { HttpClient } from '../support/http-client';
import type { TestDatabase } from '../support/test-database';
import { createPage, pageWithApp, Person, signupPerson, subscribedApp } from './registry.factory';

export const ALL_FIELDS = 'messages,messaging_postbacks,message_deliveries,message_reads,message_echoes';

// A page with an app whose webhook goes to `bot`, and a person with a thread open on the page.
export async function conversation(api: HttpClient, bot?: BotReceiver, verifyToken = 'verify-me') {
  const ctx = await pageWithApp(api);
  if (bot) {
    const res = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
      access_token: ctx.app.token,
      object: 'page',
      callback_url: bot.url,
      verify_token: verifyToken,
      fields: ALL_FIELDS,
    });
    if (res.status !== 200) throw new Error(`subscription failed: ${res.status} ${res.text}`);
  }
  const person = await signupPerson(api, 'Customer');
  const thread = await openThread(api, person, ctx.page.id);
  return { ...ctx, person, thread };
}

// The person's page-scoped id on the thread's Page: only bots see it, so tests read it from the database.
export async function psidOf(db: TestDatabase, threadId: string): Promise<string> {
  const [row] = await db.query<{ psid: string }>('SELECT psid FROM threads WHERE id = $1', [threadId]);
  return row.psid;
}

// A conversation (above) with the person's PSID on its Page.
export async function conversationWithPsid(api: HttpClient, db: TestDatabase, bot?: BotReceiver) {
  const conv = await conversation(api, bot);
  return { ...conv, psid: await psidOf(db, conv.thread.id) };
}

export async function openThread(api: HttpClient, person: Person, pageId: string) {
  const res = await api.post('/threads', { page_id: pageId }, { token: person.token });
  if (res.status !== 201 && res.status !== 200) throw new Error(`open thread failed: ${res.status} ${res.text}`);
  return res.body as { id: string; page_id: string; last_seq: number };
}

export const clientId = () => `c-${randomBytes(6).toString('hex')}`;

export async function personSays(api: HttpClient, person: Person, threadId: string, text: string, cmid = clientId()) {
  const res = await api.post(`/threads/${threadId}/messages`, { text, client_message_id: cmid }, { token: person.token });
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${res.text}`);
  return res.body as { mid: string; seq: number; timestamp: number };
}

// The PSID the page's bot knows the person by: taken from the webhook the bot received.
export async function pageSays(api: HttpClient, pageToken: string, psid: string, message: unknown) {
  return api.post(`/v25.0/me/messages?access_token=${encodeURIComponent(pageToken)}`, {
    recipient: { id: psid },
    messaging_type: 'RESPONSE',
    message,
  });
}

// The Page's Get Started button: what lets a person send its postback ({title: 'Get Started', payload}) on a
// thread where the Page has offered no other button.
export async function offerGetStarted(api: HttpClient, pageToken: string, payload = 'GET_STARTED') {
  const res = await api.post(`/v25.0/me/messenger_profile?access_token=${encodeURIComponent(pageToken)}`, { get_started: { payload } });
  if (res.status !== 200) throw new Error(`get_started failed: ${res.status} ${res.text}`);
  return { title: 'Get Started', payload };
}

// A Page with one bot subscribed to the core fields and `extraFields` (its own webhook receiver, which verifies
// signatures; the caller closes it), and a person who has written to it, so the messaging window is open.
export async function botConversation(
  api: HttpClient,
  db: TestDatabase,
  opts: { extraFields?: string[]; pageName?: string; appName?: string; firstText?: string } = {},
) {
  const owner = await signupPerson(api, 'Page Owner');
  const page = await createPage(api, owner, opts.pageName);
  const app = await subscribedApp(api, owner, page.id, opts.appName ?? 'Bot', [...ALL_FIELDS.split(','), ...(opts.extraFields ?? [])]);
  const person = await signupPerson(api, 'Customer');
  const thread = await openThread(api, person, page.id);
  const hello = await personSays(api, person, thread.id, opts.firstText ?? 'Hello');
  return { owner, page, app, bot: app.bot, person, thread, hello, psid: await psidOf(db, thread.id) };
}

// Events of one thread reach its bot in order: once a marker the person sends has arrived, nothing earlier is still
// on its way (so a test can assert what the bot did NOT get).
export async function settled(api: HttpClient, c: { person: Person; thread: { id: string }; bot: BotReceiver }): Promise<void> {
  const marker = await personSays(api, c.person, c.thread.id, `marker ${clientId()}`);
  await waitForEntry('the marker', c.bot, (_, m) => m.message?.mid === marker.mid);
}

// A Page whose app is a bot behind a real webhook (subscribed to the core fields) that answers each text with
// "Got it: <text>": the browser tests' usual other side of a conversation. The caller closes the bot.
export async function echoBotPage(api: HttpClient, platformUrl: string) {
  const biz = await pageWithApp(api);
  const bot = await startReplyingBot(
    platformUrl,
    () => biz.pageToken,
    async (item, b) => {
      if (item.message?.text) await b.send({ text: `Got it: ${item.message.text}` });
    },
  );
  const sub = await api.post(`/v25.0/${biz.app.id}/subscriptions`, {
    access_token: biz.app.token,
    object: 'page',
    callback_url: bot.receiver.url,
    verify_token: 'verify-me',
    fields: ALL_FIELDS,
  });
  if (sub.status !== 200) {
    await bot.close();
    throw new Error(`subscription failed: ${sub.status} ${sub.text}`);
  }
  return { biz, bot };
}
