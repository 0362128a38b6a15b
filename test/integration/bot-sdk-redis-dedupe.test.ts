import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import * as path from 'node:path';
import Redis from 'ioredis';
import { BotOptions, DedupeLeaseLostError, MessengerBot, redisDedupeStore, WebhookAnswer } from '../../libs/bot-sdk';
import { signMessenger } from '../../libs/webhook-signature';
import { TEST_REDIS_URL } from '../support/services';
import { waitFor } from '../support/wait-for';

// libs/bot-sdk's Redis store on a real Redis: its scripts are what the unit tests can only fake.
describe('redisDedupeStore on Redis', () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `bot-sdk-dedupe-test:${randomUUID()}:`;
  const store = redisDedupeStore(redis, { prefix });
  const start = store.start!;
  const finish = store.finish!;
  const release = store.release!;
  const extend = store.extend!;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('holds a key in progress under a lease, then done for the TTL once finished', async () => {
    expect(await start('k', 60_000, 't1')).toBe('started');
    // A lease, not a key for good (-1) or none (-2).
    const lease = await redis.pttl(`${prefix}k`);
    expect(lease).toBeGreaterThan(0);
    expect(lease).toBeLessThanOrEqual(60_000);
    expect(await start('k', 60_000, 't2')).toBe('running');
    expect(await finish('k', 86_400_000, 't1')).toBe(true);
    expect(await redis.pttl(`${prefix}k`)).toBeGreaterThan(60_000);
    expect(await start('k', 60_000, 't3')).toBe('done');
  });

  it('releases only for the holder of the lease', async () => {
    expect(await start('r', 60_000, 't1')).toBe('started');
    await release('r', 't2');
    expect(await start('r', 60_000, 't2')).toBe('running');
    await release('r', 't1');
    expect(await start('r', 60_000, 't2')).toBe('started');
  });

  it('frees a lapsed lease for the next delivery; a late finish still marks it done, and says it was not its own', async () => {
    expect(await start('l', 1, 't1')).toBe('started');
    await waitFor('the lease to lapse', async () => (await redis.exists(`${prefix}l`)) === 0);
    expect(await start('l', 60_000, 't2')).toBe('started');
    expect(await finish('l', 60_000, 't1')).toBe(false);
    expect(await start('l', 60_000, 't3')).toBe('done');
  });

  it('extends a lease only for its holder: not for another token, a done key or a lapsed lease', async () => {
    expect(await start('e', 1_000, 't1')).toBe('started');
    expect(await extend('e', 60_000, 't2')).toBe(false);
    expect(await redis.pttl(`${prefix}e`)).toBeLessThanOrEqual(1_000);
    expect(await extend('e', 60_000, 't1')).toBe(true);
    expect(await redis.pttl(`${prefix}e`)).toBeGreaterThan(1_000);
    expect(await redis.get(`${prefix}e`)).toBe('run:t1');
    expect(await finish('e', 86_400_000, 't1')).toBe(true);
    expect(await extend('e', 60_000, 't1')).toBe(false);
    expect(await redis.get(`${prefix}e`)).toBe('1');
    expect(await redis.pttl(`${prefix}e`)).toBeGreaterThan(60_000);

    expect(await start('x', 1, 't1')).toBe('started');
    await waitFor('the lease to lapse', async () => (await redis.exists(`${prefix}x`)) === 0);
    expect(await extend('x', 60_000, 't1')).toBe(false);
    expect(await redis.exists(`${prefix}x`)).toBe(0);
  });

  it('reads one-phase claims (earlier versions) as done, and they read a lease as taken', async () => {
    expect(await store.claim('old', 60_000)).toBe(true);
    expect(await start('old', 60_000, 't1')).toBe('done');
    expect(await start('new', 60_000, 't1')).toBe('started');
    expect(await store.claim('new', 60_000)).toBe(false);
  });
});

const SECRET = 'bot-sdk-lease-secret';
const PAGE = '111';
const LEASE_MS = 1_000;
const webhook = (mid: string, text: string) => {
  const body = Buffer.from(
    JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: 1, messaging: [{ sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 5, message: { mid, text } }] }] }),
  );
  return { method: 'POST', url: '/webhook', headers: { 'x-hub-signature-256': signMessenger(body, SECRET)['x-hub-signature-256'] }, body };
};

// A replica in a process of its own, so the test can kill it: the compiled SDK (dist, from tsc -p
// tsconfig.build.json) with the Redis store, its lease renewed; its handler says it started, then never ends.
const REPLICA = `
const http = require('node:http');
const Redis = require('ioredis').default;
const { MessengerBot, redisDedupeStore } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'libs', 'bot-sdk', 'index.js'))});
const env = JSON.parse(process.env.REPLICA);
const dedupeStore = redisDedupeStore(new Redis(env.redisUrl), { prefix: env.prefix });
if (!dedupeStore.extend) throw new Error('dist/libs/bot-sdk predates lease renewal: run npx tsc -p tsconfig.build.json');
const bot = new MessengerBot({ ...env.options, dedupeStore });
bot.on('message', (e) => {
  console.log('started ' + e.item.message.text);
  return new Promise(() => undefined);
});
const server = http.createServer(bot.listener()).listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

// MessengerBot's lease renewal on a real Redis: a handler that runs several leases long keeps its event, a process
// that dies stops renewing and its event runs again once the lease lapses.
describe("MessengerBot's lease on Redis", () => {
  const redis = new Redis(TEST_REDIS_URL);
  const prefix = `bot-sdk-lease-test:${randomUUID()}:`;
  const clients: Redis[] = [];
  let child: ChildProcess | undefined;

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    for (const c of clients) c.disconnect();
  });

  // A replica in this process, its own Redis connection, under ack: 'after-handlers' with a short lease.
  const replica = (name: string, ran: string[], errors: unknown[], opts: Partial<BotOptions> = {}, gate?: Promise<void>) => {
    const client = new Redis(TEST_REDIS_URL);
    clients.push(client);
    const bot = new MessengerBot({
      appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', ack: 'after-handlers', ackTimeoutMs: 100,
      dedupeLeaseMs: LEASE_MS, dedupeStore: redisDedupeStore(client, { prefix }), onError: (err) => errors.push(err), ...opts,
    });
    bot.on('message', async (e) => {
      ran.push(`${name} ${(e.item.message as { text: string }).text}`);
      await gate;
    });
    return bot;
  };
  const keyOf = async () => {
    const keys = await redis.keys(`${prefix}*`);
    expect(keys).toHaveLength(1);
    return keys[0];
  };

  async function runsPastTheLease(opts: Partial<BotOptions>, text: string) {
    await Promise.all((await redis.keys(`${prefix}*`)).map((k) => redis.del(k)));
    let pass!: () => void;
    const gate = new Promise<void>((r) => (pass = r));
    const ran: string[] = [];
    const errors: unknown[] = [];
    const a = replica('a', ran, errors, opts, gate);
    const b = replica('b', ran, errors);
    const raw = webhook(`m_${text}`, text);
    const first = a.handle(raw);
    await waitFor('a runs it', () => ran.length === 1);
    const since = Date.now();
    // The handler goes on for three leases; a redelivery to the other replica meanwhile:
    await waitFor('three leases', () => Date.now() - since > 3 * LEASE_MS);
    const redelivered: WebhookAnswer = await b.handle(raw);
    pass();
    await first;
    await a.idle();
    await b.idle();
    const after = await b.handle(raw);
    return { ran, errors, redelivered, after };
  }

  it('keeps the event of a handler that runs longer than the lease: a concurrent redelivery to another replica does not run it', async () => {
    const { ran, errors, redelivered, after } = await runsPastTheLease({}, 'long');
    expect(redelivered.status).toBe(503);
    expect(redelivered.body).toMatch(/in progress in another delivery/);
    expect(after.status).toBe(200);
    expect(ran).toEqual(['a long']);
    expect(errors).toEqual([]);
    const key = await keyOf();
    expect(await redis.get(key)).toBe('1');
  });

  it('without renewals (dedupeLeaseRenewMs: 0) the same handler loses its lease and the redelivery runs it again, reported', async () => {
    const { ran, errors, redelivered } = await runsPastTheLease({ dedupeLeaseRenewMs: 0 }, 'unrenewed');
    expect(redelivered.status).toBe(200);
    expect(ran).toEqual(['a unrenewed', 'b unrenewed']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DedupeLeaseLostError);
  });

  it('lets the event run again once the lease lapses after the process holding it was killed mid-handler', async () => {
    await Promise.all((await redis.keys(`${prefix}*`)).map((k) => redis.del(k)));
    const options = { appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', ack: 'after-handlers', ackTimeoutMs: 100, dedupeLeaseMs: LEASE_MS };
    let out = '';
    child = spawn(process.execPath, ['--no-node-snapshot', '-e', REPLICA], {
      env: { PATH: process.env.PATH ?? '', REPLICA: JSON.stringify({ options, redisUrl: TEST_REDIS_URL, prefix }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = child;
    proc.stdout!.on('data', (c: Buffer) => (out += c));
    proc.stderr!.on('data', (c: Buffer) => (out += c));
    const said = (line: string) => out.split('\n').find((l) => l.startsWith(line));
    const killed = new Promise<NodeJS.Signals | null>((r) => proc.once('exit', (_code, signal) => r(signal)));
    const listening = await waitFor('the replica listening', () => {
      if (proc.exitCode !== null) throw new Error(`the replica exited: ${out}`);
      return said('listening ');
    });
    const raw = webhook('m_crash', 'crash');
    // Its answer (a 503 past ackTimeoutMs) doesn't matter: the sender's redeliveries are what the test makes.
    const req = request({ host: '127.0.0.1', port: Number(listening.split(' ')[1]), method: 'POST', path: raw.url, headers: raw.headers });
    req.on('error', () => undefined);
    req.on('response', (res) => res.resume());
    req.end(raw.body);
    await waitFor('the replica in its handler', () => said('started crash'));
    const since = Date.now();

    const ran: string[] = [];
    const errors: unknown[] = [];
    const b = replica('b', ran, errors);
    // Alive, it renews: three leases on, its key is still in progress under its token and a redelivery comes back.
    await waitFor('three leases', () => Date.now() - since > 3 * LEASE_MS);
    const key = await keyOf();
    expect(await redis.get(key)).toMatch(/^run:/);
    expect((await b.handle(raw)).status).toBe(503);
    expect(ran).toEqual([]);

    proc.kill('SIGKILL');
    expect(await killed).toBe('SIGKILL');
    // No renewals now: the lease lapses, and the next redelivery runs the event.
    await waitFor('the lease to lapse', async () => (await redis.exists(key)) === 0);
    expect(await b.handle(raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    expect(ran).toEqual(['b crash']);
    expect(await redis.get(key)).toBe('1');
    expect(errors).toEqual([]);
  });
});
