import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { signMessenger, toMessengerJson } from '../webhook-signature';
import { BotEvent, MessengerBot } from './bot';
import { GraphApiError, GraphClient } from './graph-client';

const SECRET = 'app-secret';
const PAGE = '111';

const body = (items: Record<string, unknown>[], standby: Record<string, unknown>[] = []) =>
  Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: 1, messaging: items, ...(standby.length ? { standby } : {}) }] }));
const signed = (raw: Buffer) => ({ 'x-hub-signature-256': signMessenger(raw, SECRET)['x-hub-signature-256'] });
const post = (bot: MessengerBot, raw: Buffer, headers: Record<string, string> = signed(raw)) => bot.handle({ method: 'POST', url: '/webhook', headers, body: raw });
const msg = (psid: string, mid: string, text: string) => ({ sender: { id: psid }, recipient: { id: PAGE }, timestamp: 5, message: { mid, text } });

describe('MessengerBot webhooks', () => {
  const bot = () => new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', verifyToken: 'vt', graphUrl: 'http://127.0.0.1:1' });

  it("answers Graph's handshake only with the verify token", async () => {
    const b = bot();
    expect(await b.handle({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42', headers: {}, body: Buffer.alloc(0) })).toEqual({ status: 200, body: '42' });
    expect((await b.handle({ method: 'GET', url: '/webhook?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42', headers: {}, body: Buffer.alloc(0) })).status).toBe(403);
  });

  it('dispatches a signed body by kind, the person named, and refuses an unsigned one unread', async () => {
    const b = bot();
    const got: BotEvent[] = [];
    b.on('*', (e) => void got.push(e));
    const raw = body(
      [
        msg('7', 'm_1', 'hi'),
        { sender: { id: PAGE }, recipient: { id: '7' }, timestamp: 6, message: { mid: 'm_2', is_echo: true, text: 'hello' } },
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 7, postback: { title: 'Go', payload: 'GO' } },
        { recipient: { id: PAGE }, timestamp: 8, policy_enforcement: { action: 'warning', reason: 'r' } },
        { sender: { id: '7' }, recipient: { id: PAGE }, timestamp: 9, unknown_thing: {} },
      ],
      [msg('8', 'm_3', 'to another app')],
    );
    expect(await post(b, raw, { 'x-hub-signature-256': 'sha256=00' })).toEqual({ status: 401, body: 'bad signature' });
    await b.idle();
    expect(got).toEqual([]);
    expect(await post(b, raw)).toEqual({ status: 200, body: 'EVENT_RECEIVED' });
    await b.idle();
    // Each person's in order; other people's (and the Page's own) run beside them.
    expect(got.filter((e) => e.psid === '7').map((e) => [e.kind, e.timestamp])).toEqual([
      ['message', 5],
      ['echo', 6],
      ['postback', 7],
    ]);
    expect(got.filter((e) => e.psid !== '7').map((e) => [e.kind, e.psid])).toEqual(
      expect.arrayContaining([
        ['policy_enforcement', undefined],
        ['standby', '8'],
      ]),
    );
    expect(got).toHaveLength(5);
    expect(got[0].pageId).toBe(PAGE);
  });

  it('runs a redelivered event once, each person in order, and others meanwhile', async () => {
    const b = bot();
    const log: string[] = [];
    b.on('message', async (e) => {
      const text = (e.item.message as { text: string }).text;
      log.push(`start ${text}`);
      if (text === 'slow') await new Promise((r) => setTimeout(r, 50));
      log.push(`end ${text}`);
    });
    const first = body([msg('7', 'm_1', 'slow')]);
    await post(b, first);
    await post(b, first);
    await post(b, body([msg('7', 'm_2', 'after')]));
    await post(b, body([msg('8', 'm_3', 'other person')]));
    await b.idle();
    expect(log.filter((l) => l.endsWith('slow'))).toEqual(['start slow', 'end slow']);
    expect(log.indexOf('start after')).toBeGreaterThan(log.indexOf('end slow'));
    expect(log.indexOf('end other person')).toBeLessThan(log.indexOf('end slow'));
  });

  it("reports a handler's error and goes on", async () => {
    const errors: unknown[] = [];
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', onError: (err) => errors.push(err) });
    const seen: string[] = [];
    b.on('message', () => {
      throw new Error('boom');
    });
    b.on('message', (e) => void seen.push(e.psid!));
    await post(b, body([msg('7', 'm_1', 'x')]));
    await b.idle();
    expect(errors).toEqual([new Error('boom')]);
    expect(seen).toEqual(['7']);
  });

  it("lets a person's next event go on when a handler never finishes", async () => {
    const errors: unknown[] = [];
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', handlerTimeoutMs: 30, onError: (err) => errors.push(err) });
    const handled: string[] = [];
    b.on('message', (e) => {
      const text = (e.item.message as { text: string }).text;
      handled.push(text);
      return text === 'hang' ? new Promise(() => undefined) : undefined;
    });
    await post(b, body([msg('7', 'm_1', 'hang')]));
    await post(b, body([msg('7', 'm_2', 'next')]));
    await b.idle();
    expect(handled).toEqual(['hang', 'next']);
    expect(errors).toEqual([new Error('a message handler ran longer than 30 ms')]);
  });

  it('serves node:http with the raw body, and refuses one too large', async () => {
    const b = new MessengerBot({ appSecret: SECRET, pageAccessToken: 'T', graphUrl: 'http://127.0.0.1:1', maxBodyBytes: 2000 });
    const got: string[] = [];
    b.on('message', (e) => void got.push((e.item.message as { text: string }).text));
    const server = createServer(b.listener());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    try {
      // Non-ASCII escaped as Meta writes it: verified over the bytes as sent.
      const raw = Buffer.from(toMessengerJson({ object: 'page', entry: [{ id: PAGE, messaging: [msg('7', 'm_1', 'café')] }] }));
      expect(raw.toString()).toContain('caf\\u00e9');
      const res = await fetch(url, { method: 'POST', headers: signed(raw), body: raw });
      expect([res.status, await res.text()]).toEqual([200, 'EVENT_RECEIVED']);
      await b.idle();
      expect(got).toEqual(['café']);
      const big = Buffer.alloc(3000, 'x');
      expect((await fetch(url, { method: 'POST', headers: signed(big), body: big })).status).toBe(413);
    } finally {
      server.close();
    }
  });
});

describe('GraphClient', () => {
  let server: Server;
  let base: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: b });
        const a = answers.shift() ?? { status: 200, body: { ok: true } };
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());
  beforeEach(() => {
    seen.length = 0;
    answers = [];
  });

  it('retries a send that failed transiently under one Idempotency-Key, with the token and appsecret_proof', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', appSecret: 's', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 2 } } }, { status: 200, body: { recipient_id: '7', message_id: 'm_1' } }];
    expect(await g.post('me/messages', { recipient: { id: '7' } }, { idempotent: true })).toEqual({ recipient_id: '7', message_id: 'm_1' });
    expect(seen).toHaveLength(2);
    expect(seen[0].headers['idempotency-key']).toBeDefined();
    expect(seen[1].headers['idempotency-key']).toBe(seen[0].headers['idempotency-key']);
    expect(seen[0].headers.authorization).toBe('Bearer PT');
    expect(seen[0].url).toMatch(/^\/v25\.0\/me\/messages\?appsecret_proof=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0].body)).toEqual({ recipient: { id: '7' } });
  });

  it('repeats a write that may have been done only where the key makes that harmless', async () => {
    // A handover call answered 500 may have happened: not repeated.
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 2 } } }];
    expect(((await g.post('me/pass_thread_control', {}).catch((e) => e)) as GraphApiError).code).toBe(2);
    expect(seen).toHaveLength(1);
    // Refused unread (a rate limit): repeated.
    seen.length = 0;
    answers = [{ status: 429, body: { error: { message: 'slow down', code: 613 } } }, { status: 200, body: { success: true } }];
    expect(await g.post('me/pass_thread_control', {})).toEqual({ success: true });
    expect(seen).toHaveLength(2);
    // A server that ignores Idempotency-Key (Messenger's own Graph): a send answered 500 is not repeated either.
    seen.length = 0;
    const meta = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1, honoursIdempotencyKey: false });
    answers = [{ status: 500, body: { error: { message: 'oops', code: 1 } } }];
    await meta.post('me/messages', {}, { idempotent: true }).catch(() => undefined);
    expect(seen).toHaveLength(1);
  });

  it("throws Graph's error at once when the request is at fault", async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1 });
    answers = [{ status: 400, body: { error: { message: '(#100) No matching user found', type: 'OAuthException', code: 100, error_subcode: 2018001, fbtrace_id: 'abc' } } }];
    const err = (await g.post('me/messages', {}).catch((e) => e)) as GraphApiError;
    expect(err).toBeInstanceOf(GraphApiError);
    expect([err.status, err.code, err.subcode, err.type, err.fbtraceId, err.message, err.transient]).toEqual([
      400, 100, 2018001, 'OAuthException', 'abc', '(#100) No matching user found', false,
    ]);
    expect(seen).toHaveLength(1);
  });

  it('gives up after its retries, and waits out Retry-After', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: base, backoffMs: 1, retries: 1 });
    answers = [
      { status: 429, body: { error: { message: 'slow down', code: 613 } }, headers: { 'retry-after': '1' } },
      { status: 429, body: { error: { message: 'slow down', code: 613 } } },
    ];
    const started = Date.now();
    const err = (await g.get('me').catch((e) => e)) as GraphApiError;
    expect([err.code, err.transient]).toEqual([613, true]);
    expect(seen).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('reports a refused connection as status 0', async () => {
    const g = new GraphClient({ pageAccessToken: 'PT', graphUrl: 'http://127.0.0.1:1', retries: 0 });
    const err = (await g.get('me').catch((e) => e)) as GraphApiError;
    expect([err.status, err.transient]).toEqual([0, true]);
  });
});
