import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { BotEvent, GraphApiError, MessengerBot } from '../../libs/bot-sdk';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { openThread, personSays } from '../factories/messaging.factory';
import { connectApp, createApp, createPage, signupPerson } from '../factories/registry.factory';

// libs/bot-sdk against the real platform: a bot written with it gets a person's messages by signed webhook and
// answers through the Send API, as it would on Messenger with only the base URL changed.
describe('libs/bot-sdk against the platform', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let server: Server | undefined;

  beforeAll(async () => {
    t = await startTestPlatform();
    api = httpClient(t.url);
  });
  afterAll(async () => {
    server?.close();
    await t?.close();
  });

  it('verifies the subscription, receives the messages and answers them, typing and by name', async () => {
    const owner = await signupPerson(api, 'Shop Owner');
    const page = await createPage(api, owner, 'Corner Shop');
    const app = await createApp(api, owner, 'SDK Bot');
    const pageAccessToken = await connectApp(api, owner, page.id, app.id, ['messages', 'messaging_postbacks', 'message_echoes']);

    const errors: unknown[] = [];
    const bot = new MessengerBot({ appSecret: app.secret, pageAccessToken, verifyToken: 'sdk-verify', graphUrl: t.url, onError: (err) => errors.push(err) });
    const events: BotEvent[] = [];
    bot.on('*', (e) => void events.push(e));
    bot.on('message', async (e, b) => {
      const text = (e.item.message as { text?: string }).text ?? '';
      await b.senderAction(e.psid!, 'typing_on');
      const { first_name } = await b.profile(e.psid!, 'first_name');
      await b.sendText(e.psid!, `${String(first_name)}, you said: ${text}`);
    });
    server = createServer(bot.listener());
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const callback = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;

    // The platform's handshake goes through the SDK's verify-token check.
    const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token, object: 'page', callback_url: callback, verify_token: 'sdk-verify', fields: 'messages,messaging_postbacks,message_echoes',
    });
    expect(sub.body).toEqual({ success: true });
    const wrong = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token, object: 'page', callback_url: callback, verify_token: 'not-it', fields: 'messages',
    });
    expect(wrong.status).toBeGreaterThanOrEqual(400);

    const person = await signupPerson(api, 'Ada Lovelace');
    const thread = await openThread(api, person, page.id);
    const sock = await connectPerson(t.url, person.token);
    await personSays(api, person, thread.id, 'hello');
    await personSays(api, person, thread.id, 'are you there?');
    const replies = await sock.waitForCount('two replies', 2, (e) => e.type === 'message' && e.message?.sender === 'page');
    // One person's messages are answered in order.
    expect(replies.map((e) => e.message.text)).toEqual(['Ada, you said: hello', 'Ada, you said: are you there?']);
    await sock.waitFor('typing', (e) => e.type === 'typing');
    await bot.idle();
    expect(events.filter((e) => e.kind === 'message').map((e) => (e.item.message as { text: string }).text)).toEqual(['hello', 'are you there?']);
    expect(errors).toEqual([]);

    // Graph's refusals arrive as GraphApiError with Graph's code.
    const err = (await bot.sendText('1234567890123', 'nobody').catch((e) => e)) as GraphApiError;
    expect(err).toBeInstanceOf(GraphApiError);
    expect([err.status, err.code, err.subcode]).toEqual([400, 100, 2018001]);
    await sock.close();
  });
});
