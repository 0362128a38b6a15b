import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import Redis from 'ioredis';
import { BotEvent, GraphApiError, MessengerBot, redisDedupeStore } from '../../libs/bot-sdk';
import { httpClient, HttpClient } from '../support/http-client';
import { connectPerson } from '../support/person-socket';
import { TEST_REDIS_URL } from '../support/services';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { openThread, personSays } from '../factories/messaging.factory';
import { connectApp, createApp, createPage, signupPerson } from '../factories/registry.factory';

// A bot replica in a process of its own, so the test can kill it: the compiled SDK (dist, from tsc -p
// tsconfig.build.json) as a bot would run it, answering after its handlers with the Redis store. Its handler says
// it started, then never ends. Plain JS: Jest's transform doesn't reach a child process.
const REPLICA = `
const http = require('node:http');
const Redis = require('ioredis').default;
const { MessengerBot, redisDedupeStore } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'libs', 'bot-sdk', 'index.js'))});
const env = JSON.parse(process.env.REPLICA);
const dedupeStore = redisDedupeStore(new Redis(env.redisUrl), { prefix: env.prefix });
if (!dedupeStore.start) throw new Error('dist/libs/bot-sdk predates two-phase dedupe: run npx tsc -p tsconfig.build.json');
const bot = new MessengerBot({ ...env.options, dedupeStore });
bot.on('message', (e) => {
  console.log('started ' + e.item.message.text);
  return new Promise(() => undefined);
});
const server = http.createServer(bot.listener()).listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

// libs/bot-sdk against the real platform: a bot written with it gets a person's messages by signed webhook and
// answers through the Send API, as it would on Messenger with only the base URL changed.
describe('libs/bot-sdk against the platform', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let server: Server | undefined;
  const servers: Server[] = [];

  beforeAll(async () => {
    // A failed delivery is tried again within a second or so (the dedupe test has one fail).
    t = await startTestPlatform({ env: { WEBHOOK_RECONCILE_INTERVAL_MS: '200', WEBHOOK_RETRY_SCHEDULE: '0,1' } });
    api = httpClient(t.url);
  });
  afterAll(async () => {
    server?.close();
    for (const s of servers) s.close();
    await t?.close();
  });

  // A load balancer in front of a bot's replicas: `route` answers each request, told which POST it is (1 the first;
  // 0 a GET). `posts`: the bodies POSTed, in order.
  async function balancer(route: (n: number, req: IncomingMessage, body: Buffer, res: ServerResponse) => unknown) {
    const posts: Buffer[] = [];
    const lb = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        void route(req.method === 'POST' ? posts.push(body) : 0, req, body, res);
      });
    });
    servers.push(lb);
    await new Promise<void>((r) => lb.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(lb.address() as AddressInfo).port}/webhook`, posts };
  }

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

  it('runs an event the platform redelivers to another replica once, the replicas sharing a Redis dedupe store', async () => {
    const owner = await signupPerson(api, 'Replica Owner');
    const page = await createPage(api, owner, 'Two Replicas');
    const app = await createApp(api, owner, 'Replicated Bot');
    const pageAccessToken = await connectApp(api, owner, page.id, app.id, ['messages']);

    // Two bot processes, each with its own Redis connection, one prefix (unique to this run, removed after).
    const prefix = `bot-sdk-e2e:${randomUUID()}:`;
    const clients = [new Redis(TEST_REDIS_URL), new Redis(TEST_REDIS_URL)];
    const errors: unknown[] = [];
    const ran: string[] = [];
    const [a, b] = clients.map((client, i) => {
      const bot = new MessengerBot({ appSecret: app.secret, pageAccessToken, verifyToken: 'sdk-verify', graphUrl: t.url, dedupeStore: redisDedupeStore(client, { prefix }), onError: (err) => errors.push(err) });
      bot.on('message', (e) => void ran.push(`${i ? 'b' : 'a'}: ${(e.item.message as { text?: string }).text}`));
      return bot;
    });
    // A load balancer: the first POST reaches replica a, which runs the event, but its 200 is lost (a 500 goes back
    // instead, as when a replica dies after taking the event); the platform's retry lands on replica b.
    const answers: number[] = [];
    const { url, posts } = await balancer(async (n, req, body, res) => {
      const answer = await (n <= 1 ? a : b).handle({ method: req.method!, url: req.url!, headers: req.headers, body });
      if (n) answers.push(answer.status);
      res.writeHead(n === 1 ? 500 : answer.status).end(answer.body);
    });
    const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
      access_token: app.token, object: 'page', callback_url: url, verify_token: 'sdk-verify', fields: 'messages',
    });
    expect(sub.body).toEqual({ success: true });

    try {
      const person = await signupPerson(api, 'Grace Hopper');
      const thread = await openThread(api, person, page.id);
      await personSays(api, person, thread.id, 'just once');
      await waitFor('the retry answered by replica b', () => answers.length >= 2);
      await Promise.all([a.idle(), b.idle()]);
      // The same item both times, signed by the platform; replica b recognised it through Redis.
      const items = posts.map((p) => JSON.parse(p.toString('utf8')).entry[0].messaging[0]);
      expect(items[1]).toEqual(items[0]);
      expect(answers.slice(0, 2)).toEqual([200, 200]);
      expect(ran).toEqual(['a: just once']);
      expect(errors).toEqual([]);
      const keys = await clients[0].keys(`${prefix}*`);
      expect(keys).toHaveLength(1);
      expect(await clients[0].pttl(keys[0])).toBeGreaterThan(0);
    } finally {
      const keys = await clients[0].keys(`${prefix}*`);
      if (keys.length) await clients[0].del(...keys);
      await Promise.all(clients.map((c) => c.quit()));
    }
  });

  it("loses nothing when a replica is killed mid-handler under ack: 'after-handlers': the other runs the event once, after the platform's retry", async () => {
    const owner = await signupPerson(api, 'Crash Owner');
    const page = await createPage(api, owner, 'Crashing Replica');
    const app = await createApp(api, owner, 'Crash-safe Bot');
    const pageAccessToken = await connectApp(api, owner, page.id, app.id, ['messages']);
    const prefix = `bot-sdk-e2e:${randomUUID()}:`;
    // One configuration for both replicas; a lease short enough for the test to outlast it.
    const options = { appSecret: app.secret, pageAccessToken, verifyToken: 'sdk-verify', graphUrl: t.url, ack: 'after-handlers' as const, dedupeLeaseMs: 2000 };

    // Replica a: its own process, killed with SIGKILL once its handler has started.
    let out = '';
    const child: ChildProcess = spawn(process.execPath, ['--no-node-snapshot', '-e', REPLICA], {
      env: { PATH: process.env.PATH ?? '', REPLICA: JSON.stringify({ options, redisUrl: TEST_REDIS_URL, prefix }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (out += c));
    child.stderr!.on('data', (c: Buffer) => (out += c));
    const said = (line: string) => out.split('\n').find((l) => l.startsWith(line));
    const killed = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, signal) => r(signal)));
    // Replica b: in this process, same store.
    const redis = new Redis(TEST_REDIS_URL);
    const errors: unknown[] = [];
    const ran: string[] = [];
    const b = new MessengerBot({ ...options, dedupeStore: redisDedupeStore(redis, { prefix }), onError: (err) => errors.push(err) });
    b.on('message', (e) => void ran.push((e.item.message as { text: string }).text));

    try {
      const listening = await waitFor('replica a listening', () => {
        if (child.exitCode !== null) throw new Error(`replica a exited: ${out}`);
        return said('listening ');
      });
      const port = Number(listening.split(' ')[1]);
      // The balancer: the first POST to replica a (a 502 if a dies with it open), the platform's retries to b.
      const answers: number[] = [];
      const { url, posts } = await balancer(async (n, req, body, res) => {
        if (n === 1) {
          const upstream = request({ host: '127.0.0.1', port, method: 'POST', path: req.url, headers: req.headers }, (r) => {
            res.writeHead(r.statusCode ?? 502);
            r.pipe(res);
          });
          upstream.on('error', () => res.writeHead(502).end('replica a is gone'));
          upstream.end(body);
          return;
        }
        const answer = await b.handle({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (n) answers.push(answer.status);
        res.writeHead(answer.status, answer.headers).end(answer.body);
      });
      const sub = await api.post(`/v25.0/${app.id}/subscriptions`, {
        access_token: app.token, object: 'page', callback_url: url, verify_token: 'sdk-verify', fields: 'messages',
      });
      expect(sub.body).toEqual({ success: true });

      const person = await signupPerson(api, 'Margaret Hamilton');
      const thread = await openThread(api, person, page.id);
      await personSays(api, person, thread.id, 'do not lose me');
      await waitFor('replica a in its handler', () => said('started do not lose me'));
      child.kill('SIGKILL');
      expect(await killed).toBe('SIGKILL');

      // The platform retries (its schedule, then b's Retry-After) until b has run the event and answered 200.
      await waitFor('replica b handled the retry', () => answers.includes(200));
      // A next message is sent only once the first was acknowledged (one thread, in order): when b has handled it,
      // nothing of the first is still to come.
      await personSays(api, person, thread.id, 'and me');
      await waitFor('the next message', () => ran.includes('and me'));
      await b.idle();
      expect(ran).toEqual(['do not lose me', 'and me']);
      // The same item each time; b told the platform to come back (503) until a's lease lapsed, then ran it (200).
      const items = posts.map((p) => JSON.parse(p.toString('utf8')).entry[0].messaging[0]);
      const retries = items.filter((i) => i.message.text === 'do not lose me').length - 1;
      expect(items.slice(1, retries + 1)).toEqual(Array(retries).fill(items[0]));
      expect(answers.slice(0, retries)).toEqual([...Array(retries - 1).fill(503), 200]);
      expect(errors).toEqual([]);
      // Both events done in Redis, for the TTL.
      const keys = await redis.keys(`${prefix}*`);
      expect(keys).toHaveLength(2);
      for (const k of keys) {
        expect(await redis.get(k)).toBe('1');
        expect(await redis.pttl(k)).toBeGreaterThan(60_000);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });
});
