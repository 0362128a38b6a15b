import { randomBytes } from 'node:crypto';
import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { HttpClient } from '../support/http-client';

export interface Person {
  id: string;
  username: string;
  token: string;
}

export async function signupPerson(api: HttpClient, name = 'Test Person'): Promise<Person> {
  const username = `u${randomBytes(6).toString('hex')}`;
  const res = await api.post('/auth/signup', { username, password: 'a-long-password', name });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { id: res.body.id, username, token: res.body.access_token };
}

export async function createPage(api: HttpClient, owner: Person, name = 'Acme'): Promise<{ id: string; name: string }> {
  const res = await api.post('/pages', { name }, { token: owner.token });
  if (res.status !== 201) throw new Error(`create page failed: ${res.status} ${res.text}`);
  return res.body;
}

export async function createApp(api: HttpClient, owner: Person, name = 'Bot'): Promise<{ id: string; secret: string; token: string }> {
  const res = await api.post('/apps', { name }, { token: owner.token });
  if (res.status !== 201) throw new Error(`create app failed: ${res.status} ${res.text}`);
  return { id: res.body.id, secret: res.body.secret, token: `${res.body.id}|${res.body.secret}` };
}

export async function connectApp(
  api: HttpClient,
  admin: Person,
  pageId: string,
  appId: string,
  fields = ['messages', 'messaging_postbacks', 'message_deliveries', 'message_reads', 'message_echoes'],
): Promise<string> {
  const res = await api.post(`/pages/${pageId}/apps`, { app_id: appId, subscribed_fields: fields }, { token: admin.token });
  if (res.status !== 201) throw new Error(`connect failed: ${res.status} ${res.text}`);
  return res.body.page_access_token;
}

// A business with a page, a bot developer's app connected to it, and the tokens each uses.
export async function pageWithApp(api: HttpClient) {
  const owner = await signupPerson(api, 'Page Owner');
  const page = await createPage(api, owner);
  const app = await createApp(api, owner);
  const pageToken = await connectApp(api, owner, page.id, app.id);
  return { owner, page, app, pageToken };
}

// pageWithApp, its app's webhook subscribed to `fields` (comma-separated) at `bot`.
export async function pageWithSubscribedApp(api: HttpClient, bot: { url: string }, fields: string) {
  const ctx = await pageWithApp(api);
  const res = await api.post(`/v25.0/${ctx.app.id}/subscriptions`, {
    access_token: ctx.app.token,
    object: 'page',
    callback_url: bot.url,
    verify_token: 'verify-me',
    fields,
  });
  if (res.body?.success !== true) throw new Error(`subscription failed: ${res.status} ${res.text}`);
  return ctx;
}

// An app of the owner's connected to the Page, its webhook subscribed to `fields` at a receiver of its own that
// verifies every signature (the caller closes it).
export async function subscribedApp(api: HttpClient, owner: Person, pageId: string, name: string, fields: string[]) {
  const app = await createApp(api, owner, name);
  const pageToken = await connectApp(api, owner, pageId, app.id, fields);
  const bot: BotReceiver = await startBotReceiver('verify-me');
  bot.secrets.push(app.secret);
  const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
    access_token: app.token, object: 'page', callback_url: bot.url, verify_token: 'verify-me', fields: fields.join(','),
  });
  if (sub.status !== 200) {
    await bot.close();
    throw new Error(`subscription failed: ${sub.status} ${sub.text}`);
  }
  return { ...app, pageToken, bot };
}
