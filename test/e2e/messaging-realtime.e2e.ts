import { createHash, randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import WebSocket from 'ws';
import { httpClient, HttpClient } from '../support/http-client';
import { startBotReceiver } from '../support/bot-receiver';
import { assertGapFree, connectPerson, upgradeRefusal } from '../support/person-socket';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { TEST_REDIS_URL } from '../support/services';
import { startTcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait-for';
import { conversation, offerGetStarted, openThread, pageSays, personSays } from '../factories/messaging.factory';
import { createPage, signupPerson } from '../factories/registry.factory';

// Sockets, cursors and processes: catch-up without gap or duplicate, fan-out across api processes,
// long-poll, heartbeats and slow consumers.
describe('messaging: real time', () => {
  let t: TestPlatform;
  let api: HttpClient;

  beforeAll(async () => {
    t = await startTestPlatform({ env: { WS_MAX_BUFFERED_BYTES: '65536', WS_SLOW_GRACE_MS: '300' } });
    api = httpClient(t.url);
  });
  afterAll(async () => t?.close());

  const pollsWaiting = (n: number) =>
    waitFor(`${n} waiting long-poll(s)`, async () => (await api.get('/metrics')).text.includes(`switchboard_realtime_long_polls ${n}\n`));

  // A sibling api that reaches Redis through a proxy, so it alone can be cut off from it.
  async function siblingBehindRedisProxy(env: Record<string, string> = {}) {
    const redisUrl = new URL(TEST_REDIS_URL);
    const proxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
    const sibling = await t.spawnSibling('api', { REDIS_URL: `redis://${proxy.address}`, ...env });
    return { proxy, sibling };
  }

  // What `p` settles to, or a sentence saying it didn't within 15 s (so the assertion names what hung).
  const within = <T>(p: Promise<T>, what: string) =>
    Promise.race([p, new Promise<string>((r) => setTimeout(() => r(`${what}: nothing within 15 s`), 15_000).unref())]);

  async function setup() {
    const c = await conversation(api);
    // The Send API's 24 h window opens at the person's last message; open it without writing one (seq and cursors stay put).
    const [row] = await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1 RETURNING psid', [c.thread.id, Date.now()]);
    return { ...c, psid: row.psid as string };
  }

  it('catches a reconnecting client up from its cursor, with no gap and no duplicate', async () => {
    const c = await setup();
    const first = await connectPerson(t.url, c.person.token, { viaHeader: true });
    for (let i = 0; i < 3; i++) await pageSays(api, c.pageToken, c.psid, { text: `before ${i}` });
    await first.waitForCount('3 replies', 3, (e) => e.type === 'message');
    const last = assertGapFree(first.events, 0);
    await first.close();

    // While it is away: replies, a mark_seen, and the person's own message from another device.
    await Promise.all(Array.from({ length: 5 }, (_, i) => pageSays(api, c.pageToken, c.psid, { text: `away ${i}` })));
    await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, sender_action: 'mark_seen' });
    await personSays(api, c.person, c.thread.id, 'from my phone');

    const again = await connectPerson(t.url, c.person.token, { after: last });
    expect(again.hello.cursor).toBe(last);
    await again.waitForCount('7 missed events', 7, (e) => e.cursor !== undefined);
    await pageSays(api, c.pageToken, c.psid, { text: 'live again' });
    await again.waitFor('the live one', (e) => e.message?.text === 'live again');
    expect(assertGapFree(again.events, last)).toBe(last + 8);
    expect(again.events.filter((e) => e.type === 'message').map((e) => e.seq)).toEqual([4, 5, 6, 7, 8, 10]);
    expect(again.events.find((e) => e.type === 'read')).toMatchObject({ by: 'page', seq: 8 });

    // Catch-up by thread seq works too.
    const page = await api.get(`/threads/${c.thread.id}/messages?after_seq=3&limit=4`, { token: c.person.token });
    expect(page.body.data.map((m: { seq: number }) => m.seq)).toEqual([4, 5, 6, 7]);
    expect(page.body.has_more).toBe(true);
    await again.close();
  });

  it('takes a person’s message over the socket, acked and idempotent like the REST route', async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    const frame = { type: 'send', ref: 'r1', thread_id: c.thread.id, text: 'over the socket', client_message_id: 'ws-1' };
    sock.ws.send(JSON.stringify(frame));
    const ack = await sock.waitFor('ack', (e) => e.type === 'ack' && e.ref === 'r1');
    expect(ack).toEqual({ type: 'ack', ref: 'r1', mid: expect.stringMatching(/^m_/), seq: 1, timestamp: expect.any(Number), created: true });
    sock.ws.send(JSON.stringify({ ...frame, ref: 'r2' }));
    const again = await sock.waitFor('second ack', (e) => e.type === 'ack' && e.ref === 'r2');
    expect(again).toMatchObject({ mid: ack.mid, created: false });
    await sock.waitFor('own echo', (e) => e.type === 'echo' && e.message.mid === ack.mid);

    sock.ws.send(JSON.stringify({ type: 'send', ref: 'r3', thread_id: c.thread.id, text: '', client_message_id: 'ws-2' }));
    expect(await sock.waitFor('validation error', (e) => e.ref === 'r3')).toMatchObject({ type: 'error', code: 'REQUEST.VALIDATION_FAILED' });
    sock.ws.send(JSON.stringify({ type: 'send', ref: 'r4', thread_id: '1', text: 'x', client_message_id: 'ws-3' }));
    expect(await sock.waitFor('not found', (e) => e.ref === 'r4')).toMatchObject({ type: 'error', code: 'THREAD.NOT_FOUND' });
    sock.ws.send(JSON.stringify({ type: 'dance', ref: 'r5' }));
    expect(await sock.waitFor('unknown frame', (e) => e.ref === 'r5')).toMatchObject({ type: 'error', code: 'WS.UNKNOWN_FRAME' });
    const [n] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
    expect(n.n).toBe(1);
    await sock.close();
  });

  it("limits one person's sends across threads, REST and socket alike, and writes nothing it refuses", async () => {
    const limited = await t.spawnSibling('api', { PERSON_SEND_BURST: '3', PERSON_SEND_RATE_PER_SECOND: '1' });
    try {
      const viaLimited = httpClient(limited.url);
      const c = await setup();
      const second = await openThread(viaLimited, c.person, (await createPage(viaLimited, c.owner, 'Second')).id);
      await personSays(viaLimited, c.person, c.thread.id, 'one');
      await personSays(viaLimited, c.person, second.id, 'two');
      const pb = await viaLimited.post(`/threads/${c.thread.id}/postbacks`, await offerGetStarted(viaLimited, c.pageToken), { token: c.person.token });
      expect(pb.status).toBe(201);
      const refused = await viaLimited.post(`/threads/${second.id}/messages`, { text: 'four', client_message_id: 'c-four' }, { token: c.person.token });
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ statusCode: 429, code: 'THREAD.RATE_LIMITED', requestId: expect.any(String) });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      const sock = await connectPerson(limited.url, c.person.token);
      sock.ws.send(JSON.stringify({ type: 'send', ref: 'r', thread_id: c.thread.id, text: 'five', client_message_id: 'c-five' }));
      expect(await sock.waitFor('refused over the socket', (e) => e.ref === 'r')).toMatchObject({ type: 'error', code: 'THREAD.RATE_LIMITED' });
      const [n] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = ANY($1)`, [[c.thread.id, second.id]]);
      expect(n.n).toBe(3);
      // Refilled: the refused message goes through with the same client_message_id, once.
      const retried = await waitFor('the bucket refilled', async () => {
        const r = await viaLimited.post(`/threads/${second.id}/messages`, { text: 'four', client_message_id: 'c-four' }, { token: c.person.token });
        return r.status === 201 ? r : undefined;
      });
      expect(retried.body.seq).toBe(2);
      // Over the limit again, a retry of a stored message still gets that message, not a 429.
      let over: Awaited<ReturnType<typeof viaLimited.post>> | undefined;
      for (let i = 0; i < 10 && !over; i++) {
        const r = await viaLimited.post(`/threads/${second.id}/messages`, { text: `more ${i}`, client_message_id: `c-more-${i}` }, { token: c.person.token });
        if (r.status === 429) over = r;
      }
      expect(over?.status).toBe(429);
      const replayed = await viaLimited.post(`/threads/${second.id}/messages`, { text: 'four', client_message_id: 'c-four' }, { token: c.person.token });
      expect([replayed.status, replayed.body]).toEqual([200, retried.body]);
      sock.ws.send(JSON.stringify({ type: 'send', ref: 'r2', thread_id: second.id, text: 'four', client_message_id: 'c-four' }));
      expect(await sock.waitFor('replayed over the socket', (e) => e.ref === 'r2')).toMatchObject({ type: 'ack', mid: retried.body.mid, created: false });
      await sock.close();
    } finally {
      await limited.stop();
    }
  });

  it('prunes person events past retention, and tells a client with an older cursor to reset', async () => {
    const c = await setup();
    for (const text of ['one', 'two', 'three']) await personSays(api, c.person, c.thread.id, text);
    // Two of the three echoes are "old"; messages themselves are history and stay.
    await t.db.query(`UPDATE user_events SET created_at = now() - interval '8 days' WHERE user_id = $1 AND cursor <= 2`, [c.person.id]);
    const pruner = await t.spawnSibling('worker', { USER_EVENTS_PRUNE_INTERVAL_MS: '200' });
    try {
      await waitFor('old events pruned', async () => {
        const rows = await t.db.query(`SELECT cursor FROM user_events WHERE user_id = $1 ORDER BY cursor`, [c.person.id]);
        return rows.length === 1 ? rows : undefined;
      });
    } finally {
      await pruner.stop();
    }
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM messages WHERE thread_id = $1`, [c.thread.id]);
    expect(n).toBe(3);

    // After 2: event 3 is still there, so nothing was missed.
    const fine = await connectPerson(t.url, c.person.token, { after: 2 });
    expect(fine.hello).toEqual({ type: 'hello', cursor: 2, heartbeat_ms: expect.any(Number) });
    await fine.waitFor('event 3', (e) => e.cursor === 3);
    await fine.close();
    // After 0: events 1 and 2 are gone. Reset to the head instead of a silent gap.
    const stale = await connectPerson(t.url, c.person.token, { after: 0 });
    expect(stale.hello).toEqual({ type: 'hello', cursor: 3, heartbeat_ms: expect.any(Number), reset: true });
    await stale.close();
    const polled = await api.get('/events?after=1&timeout=0', { token: c.person.token });
    expect(polled.body).toEqual({ events: [], cursor: 3, reset: true });
    const current = await api.get('/events?after=3&timeout=0', { token: c.person.token });
    expect(current.body).toEqual({ events: [], cursor: 3 });
    // A cursor this person never had (from another server's database, say) resets too.
    const future = await api.get('/events?after=99&timeout=0', { token: c.person.token });
    expect(future.body).toEqual({ events: [], cursor: 3, reset: true });
  });

  it('prunes only a prefix of a person’s events, so a client resuming inside the pruned part is told to reset, never handed a gap', async () => {
    const c = await setup();
    for (const text of ['one', 'two', 'three', 'four']) await personSays(api, c.person, c.thread.id, text);
    // created_at is each transaction's start: a cursor taken later can be older (here 3 is past retention, 2 not).
    await t.db.query(
      `UPDATE user_events SET created_at = now() - CASE WHEN cursor = 2 THEN interval '0' ELSE interval '8 days' END
        WHERE user_id = $1 AND cursor <= 3`,
      [c.person.id],
    );
    const pruner = await t.spawnSibling('worker', { USER_EVENTS_PRUNE_INTERVAL_MS: '200' });
    try {
      await waitFor('a pruning pass', async () => !(await t.db.query(`SELECT 1 FROM user_events WHERE user_id = $1 AND cursor = 1`, [c.person.id])).length);
      // Pruning the expired rows themselves left 2 and 4: a client after 1 was handed 2 and 4, and never 3.
      const left = await t.db.query(`SELECT cursor::int AS cursor FROM user_events WHERE user_id = $1 ORDER BY cursor`, [c.person.id]);
      expect(left.map((r: any) => r.cursor)).toEqual([4]);
    } finally {
      await pruner.stop();
    }
    const polled = await api.get('/events?after=1&timeout=0', { token: c.person.token });
    expect(polled.body).toEqual({ events: [], cursor: 4, reset: true });
    const fine = await api.get('/events?after=3&timeout=0', { token: c.person.token });
    expect(fine.body.events.map((e: any) => e.cursor)).toEqual([4]);
  });

  it('brings an event whose writer died before announcing it to sockets and waiting long-polls on other processes (REALTIME_RESYNC_MS)', async () => {
    const c = await setup();
    const watcher = await t.spawnSibling('api', { REALTIME_RESYNC_MS: '300' });
    const { proxy, sibling: writer } = await siblingBehindRedisProxy();
    try {
      const sock = await connectPerson(watcher.url, c.person.token);
      const watcherApi = httpClient(watcher.url);
      const poll = watcherApi.get('/events?timeout=30', { token: c.person.token });
      await waitFor('the poll waiting', async () => (await watcherApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 1\n'));
      // The writer commits the person's read mark, then its publish goes nowhere, and it dies.
      proxy.stall();
      void httpClient(writer.url)
        .post(`/threads/${c.thread.id}/read`, { watermark: Date.now() }, { token: c.person.token })
        .catch(() => undefined);
      const [{ cursor }] = await waitFor('the read mark committed', async () => {
        const rows = await t.db.query(`SELECT cursor::int AS cursor FROM user_events WHERE user_id = $1 AND payload->>'type' = 'read'`, [c.person.id]);
        return rows.length ? rows : undefined;
      });
      await writer.stop('SIGKILL');
      // Nothing else happens in this conversation: only the sweep can tell them.
      expect(await within(sock.waitFor('the untold read', (e) => e.type === 'read'), 'the socket')).toMatchObject({ cursor, by: 'person' });
      const polled: any = await within(poll, 'the long-poll');
      expect(polled.body.events.map((e: any) => [e.type, e.cursor])).toEqual([['read', cursor]]);
      await sock.close();
    } finally {
      proxy.flow();
      await writer.stop();
      await watcher.stop();
      await proxy.close();
    }
  });

  it('gives each of a person’s sockets every event', async () => {
    const c = await setup();
    const socks = await Promise.all([1, 2, 3].map(() => connectPerson(t.url, c.person.token)));
    await Promise.all(Array.from({ length: 10 }, (_, i) => pageSays(api, c.pageToken, c.psid, { text: `m${i}` })));
    for (const s of socks) {
      await s.waitForCount('10 replies', 10, (e) => e.type === 'message');
      assertGapFree(s.events, 0);
    }
    await Promise.all(socks.map((s) => s.close()));
  });

  it('fans out across two api processes through Redis', async () => {
    const c = await setup();
    const sibling = await t.spawnSibling('api');
    const viaSibling = httpClient(sibling.url);
    const onSibling = await connectPerson(sibling.url, c.person.token);
    const onMain = await connectPerson(t.url, c.person.token);
    const reply = await pageSays(api, c.pageToken, c.psid, { text: 'sent through main' });
    expect(reply.status).toBe(200);
    await onSibling.waitFor('reply on the other process', (e) => e.message?.mid === reply.body.message_id);
    const other = await pageSays(viaSibling, c.pageToken, c.psid, { text: 'sent through the sibling' });
    await onMain.waitFor('reply on main', (e) => e.message?.mid === other.body.message_id);
    const own = await personSays(viaSibling, c.person, c.thread.id, 'hello from the sibling');
    await onMain.waitFor('echo on main', (e) => e.type === 'echo' && e.message.mid === own.mid);
    await onSibling.waitForCount('all three on the sibling', 3, (e) => e.cursor !== undefined);
    expect(assertGapFree(onSibling.events, 0)).toBe(3);
    await Promise.all([onSibling.close(), onMain.close()]);
    await sibling.stop();
  });

  it('long-polls: stored events at once, otherwise the next one, with the same cursors', async () => {
    const c = await setup();
    const poll = (q: string) => api.get(`/events${q}`, { token: c.person.token });
    const empty = await poll('?timeout=0');
    expect(empty.body).toEqual({ events: [], cursor: 0 });

    const waiting = poll('?after=0&timeout=20');
    // Send only once the poll is subscribed, to test the wake-up.
    await pollsWaiting(1);
    const sent = await pageSays(api, c.pageToken, c.psid, { text: 'for the poller' });
    const woke = await waiting;
    expect(woke.status).toBe(200);
    expect(woke.body.cursor).toBe(1);
    expect(woke.body.events).toEqual([expect.objectContaining({ type: 'message', cursor: 1, seq: 1, message: expect.objectContaining({ mid: sent.body.message_id }) })]);

    await personSays(api, c.person, c.thread.id, 'two');
    await personSays(api, c.person, c.thread.id, 'three');
    const stored = await poll('?after=1&timeout=20&limit=1');
    expect(stored.body.events.map((e: { cursor: number }) => e.cursor)).toEqual([2]);
    const rest = await poll(`?after=${stored.body.cursor}&timeout=0`);
    expect(rest.body.events.map((e: { cursor: number }) => e.cursor)).toEqual([3]);

    const typingPoll = poll('?after=3&timeout=20');
    await pollsWaiting(1);
    await api.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, sender_action: 'typing_on' });
    const typing = await typingPoll;
    expect(typing.body).toEqual({ events: [expect.objectContaining({ type: 'typing', on: true })], cursor: 3 });

    const bad = await poll('?after=-1');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('speaks its frame protocol: pong to a ping, binary ignored, non-JSON closed with 1008', async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    sock.ws.send(Buffer.from([1, 2, 3]));
    sock.ws.send(JSON.stringify({ type: 'ping' }));
    await sock.waitFor('pong', (e) => e.type === 'pong');
    sock.ws.send(JSON.stringify(['send']));
    expect(await sock.waitFor('array frame', (e) => e.type === 'error')).toMatchObject({ ref: null, code: 'WS.UNKNOWN_FRAME' });
    // The binary frame got no answer: only the pong and the error arrived.
    expect(sock.events.map((e) => e.type)).toEqual(['pong', 'error']);
    sock.ws.send('not json');
    expect(await sock.closed).toEqual({ code: 1008, reason: 'frames must be JSON' });
  });

  it('answers frames built to crash it (a ref or a body nested 30,000 deep, a thread_id that is not a string) and stays up', async () => {
    const c = await setup();
    const sock = await connectPerson(t.url, c.person.token);
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    sock.ws.send(`{"type":"dance","ref":${deep(30_000)}}`);
    expect(await sock.waitFor('deep ref', (e) => e.type === 'error')).toMatchObject({ ref: null, code: 'WS.FRAME_TOO_DEEP' });
    sock.ws.send(`{"type":"send","ref":"s1","thread_id":"${c.thread.id}","client_message_id":"x","text":${deep(30_000)}}`);
    expect(await sock.waitFor('deep send', (e) => e.type === 'error' && e.ref === 's1')).toMatchObject({ code: 'WS.FRAME_TOO_DEEP' });
    sock.ws.send(JSON.stringify({ type: 'send', ref: 's2', thread_id: [[['x']]], text: 'hi', client_message_id: 'c-s2' }));
    expect(await sock.waitFor('array thread_id', (e) => e.type === 'error' && e.ref === 's2')).toMatchObject({
      code: 'REQUEST.VALIDATION_FAILED',
      details: [expect.objectContaining({ field: 'thread_id' })],
    });
    sock.ws.send(JSON.stringify({ type: 'dance', ref: { nested: true } }));
    expect(await sock.waitFor('object ref', (e) => e.type === 'error' && e.code === 'WS.UNKNOWN_FRAME')).toMatchObject({ ref: null });
    sock.ws.send(JSON.stringify({ type: 'ping' }));
    await sock.waitFor('pong', (e) => e.type === 'pong');
    expect((await api.get('/health')).status).toBe(200);
    await sock.close();
  });

  it('closes a socket that keeps sending frames but never reads the answers, instead of buffering them', async () => {
    const c = await setup();
    // A plain client (no deflate, so its own sends go out at once) that reads nothing after hello.
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`, { perMessageDeflate: false });
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    await new Promise((r) => ws.once('message', r));
    (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    // Refs that don't compress (the server deflates its answers), each echoed in its answer.
    const frames = Array.from({ length: 100 }, () => JSON.stringify({ type: 'dance', ref: randomBytes(180).toString('base64') }));
    await waitFor(
      'the platform to close the socket',
      async () => {
        if (t.logs.join('').includes('does not read its answers')) return true;
        for (let i = 0; i < 2000 && ws.readyState === WebSocket.OPEN && ws.bufferedAmount < 1_000_000; i++) ws.send(frames[i % frames.length]);
        return false;
      },
      { timeoutMs: 60_000, intervalMs: 5 },
    );
    (ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    expect(await closed).toEqual({ code: 1013, reason: 'too slow: answers to its frames go unread' });
  }, 90_000);

  it('sends hello before anything else, even to frames that arrive with the upgrade', async () => {
    const c = await setup();
    const firsts = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`);
        const frames: string[] = [];
        ws.on('message', (d) => frames.push(JSON.parse(String(d)).type));
        await new Promise((r) => ws.once('open', r));
        ws.send(JSON.stringify({ type: 'ping' }));
        ws.send(JSON.stringify({ type: 'dance' }));
        await waitFor('three frames', () => frames.length >= 3);
        ws.terminate();
        return frames.slice(0, 3).join(',');
      }),
    );
    expect(new Set(firsts)).toEqual(new Set(['hello,pong,error']));
  });

  it('reads an empty long-poll cursor as a bad one, not as the start of the log', async () => {
    const c = await setup();
    const res = await api.get('/events?after=&timeout=0', { token: c.person.token });
    expect(res.status).toBe(400);
    expect(res.body.details.length).toBeGreaterThan(0);
    expect(res.body.details.every((d: { field: string }) => d.field === 'after')).toBe(true);
    expect((await api.get('/events?timeout=0', { token: c.person.token })).status).toBe(200);
  });

  it('refuses a bad cursor before the upgrade, with a status and a JSON body', async () => {
    const c = await setup();
    const refusal = await upgradeRefusal(`${t.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}&after=-1`);
    expect({ status: refusal.status, type: refusal.headers['content-type'], body: refusal.body }).toEqual({
      status: 400,
      type: 'application/json',
      body: { statusCode: 400, code: 'REQUEST.INVALID', message: 'after must be a cursor (a non-negative integer)' },
    });
  });

  it('holds a person to WS_MAX_SOCKETS_PER_PERSON sockets and LONG_POLLS_MAX_PER_PERSON waiting polls per process (429), others unaffected', async () => {
    const c = await setup();
    const other = await setup();
    const capped = await t.spawnSibling('api', { WS_MAX_SOCKETS_PER_PERSON: '2', LONG_POLLS_MAX_PER_PERSON: '1' });
    try {
      const wsUrl = `${capped.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`;
      const [a, b] = [await connectPerson(capped.url, c.person.token), await connectPerson(capped.url, c.person.token)];
      const refusal = await upgradeRefusal(wsUrl);
      expect([refusal.status, refusal.body.code]).toEqual([429, 'REALTIME.TOO_MANY_SOCKETS']);
      // Another person, and this person on another process, are not counted against it.
      const theirs = await connectPerson(capped.url, other.person.token);
      const elsewhere = await connectPerson(t.url, c.person.token);
      // A socket closed frees its place.
      await a.close();
      const again = await waitFor('a place again', () => connectPerson(capped.url, c.person.token).catch(() => undefined));
      await pageSays(api, c.pageToken, c.psid, { text: 'to every device' });
      for (const s of [b, again, elsewhere]) await s.waitFor('the reply', (e) => e.message?.text === 'to every device');
      await Promise.all([b, again, theirs, elsewhere].map((s) => s.close()));

      const cappedApi = httpClient(capped.url);
      const waiting = cappedApi.get('/events?timeout=30', { token: c.person.token });
      await waitFor('the poll waiting', async () => (await cappedApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 1\n'));
      const second = await cappedApi.get('/events?timeout=30', { token: c.person.token });
      expect([second.status, second.body.code]).toEqual([429, 'REALTIME.TOO_MANY_POLLS']);
      // A poll that does not wait, and another person's, still go.
      expect((await cappedApi.get('/events?timeout=0', { token: c.person.token })).status).toBe(200);
      const theirPoll = cappedApi.get('/events?timeout=30', { token: other.person.token });
      await waitFor('their poll waiting', async () => (await cappedApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 2\n'));
      const sent = await pageSays(api, c.pageToken, c.psid, { text: 'ends the wait' });
      expect((await waiting).body.events.map((e: any) => e.message?.mid)).toEqual([sent.body.message_id]);
      // Its place is free once it has answered.
      const next = cappedApi.get('/events?timeout=30', { token: c.person.token });
      const otherSent = await pageSays(api, other.pageToken, other.psid, { text: 'theirs' });
      expect((await theirPoll).body.events.map((e: any) => e.message?.mid)).toEqual([otherSent.body.message_id]);
      await waitFor('the next poll waiting', async () => (await cappedApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 1\n'));
      const last = await pageSays(api, c.pageToken, c.psid, { text: 'and the next' });
      expect((await next).body.events.map((e: any) => e.message?.mid)).toEqual([last.body.message_id]);
    } finally {
      await capped.stop();
    }
  });

  it('answers an upgrade at a path with no WebSocket 404, with the API error body', async () => {
    const c = await setup();
    for (const path of ['/wss', '/ws/', '/threads']) {
      const refusal = await upgradeRefusal(`${t.url.replace(/^http/, 'ws')}${path}?access_token=${c.person.token}`);
      expect({ status: refusal.status, body: refusal.body }).toEqual({ status: 404, body: { statusCode: 404, code: 'NOT_FOUND', message: `No WebSocket at ${path}` } });
    }
    // The real path still upgrades.
    const sock = await connectPerson(t.url, c.person.token);
    await sock.close();
  });

  it('refuses an unauthenticated socket before the upgrade', async () => {
    await expect(connectPerson(t.url, 'sbu_not-a-token')).rejects.toThrow('401');
    const c = await setup();
    await expect(connectPerson(t.url, c.pageToken)).rejects.toThrow('401');
  });

  it('catches sockets and long-polls up, and closes sockets of a token revoked meanwhile, when Redis comes back after a cut', async () => {
    const c = await setup();
    // The sibling alone can be cut off from Redis while the main process publishes.
    const { proxy, sibling } = await siblingBehindRedisProxy();
    try {
      const second = await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' });
      const stays = await connectPerson(sibling.url, c.person.token);
      const revoked = await connectPerson(sibling.url, second.body.access_token);
      // A long-poll waiting on the sibling: answered by the re-read, not at its 60 s timeout.
      const siblingApi = httpClient(sibling.url);
      const poll = siblingApi.get(`/events?after=${stays.hello.cursor}&timeout=60`, { token: c.person.token });
      await waitFor('the long-poll waiting', async () => (await siblingApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 1\n'));

      const stranger = await signupPerson(api, 'Stranger');
      proxy.cut();
      // The sibling has seen its bus go: a person it doesn't follow would need a new subscription, so is refused
      // until the bus is back. From here on, what is published reaches the sibling's sockets only through the
      // reconnect's re-read below.
      const strangerSocket = `${sibling.url.replace(/^http/, 'ws')}/ws?access_token=${stranger.token}`;
      const refusal = await waitFor('the sibling to see its bus down', () => upgradeRefusal(strangerSocket));
      expect([refusal.status, refusal.body.code]).toEqual([503, 'REALTIME.UNAVAILABLE']);
      // Through the main process, so only pub/sub could tell the sibling, and it is cut off.
      expect((await pageSays(api, c.pageToken, c.psid, { text: 'sent while the bus was down' })).status).toBe(200);
      expect((await api.post('/auth/logout', {}, { token: second.body.access_token })).status).toBe(204);
      // Another device of a person the sibling follows joins the subscription it holds, and is caught up with the
      // others.
      const joined = await connectPerson(sibling.url, c.person.token);
      expect((await pageSays(api, c.pageToken, c.psid, { text: 'sent to a device that joined during the cut' })).status).toBe(200);
      proxy.restore();

      // No later event comes to reveal a gap: the reconnect itself makes the sibling re-read.
      expect(await stays.waitFor('the message published during the cut', (e) => e.message?.text === 'sent while the bus was down', 15_000)).toMatchObject({
        type: 'message',
      });
      const joinedText = 'sent to a device that joined during the cut';
      expect(await joined.waitFor('the message sent after it joined', (e) => e.message?.text === joinedText, 15_000)).toMatchObject({ type: 'message' });
      await joined.close();
      expect(await within(revoked.closed, 'the revoked socket')).toEqual({ code: 4401, reason: 'token revoked' });
      const polled = (await within(poll, 'the long-poll')) as Awaited<typeof poll>;
      // Both were stored before the bus came back, so the re-read finds both.
      expect(polled.body.events.map((e: any) => [e.type, e.message?.text])).toEqual([
        ['message', 'sent while the bus was down'],
        ['message', joinedText],
      ]);
      await stays.close();
    } finally {
      await sibling.stop();
      await proxy.close();
    }
  });

  it('closes a socket whose token a process cut off from Redis revoked (its message lost) at the next token check', async () => {
    const c = await setup();
    const { proxy, sibling: revoker } = await siblingBehindRedisProxy({ REDIS_COMMAND_TIMEOUT_MS: '500' });
    const holder = await t.spawnSibling('api', { WS_TOKEN_RECHECK_MS: '300' });
    try {
      const second = await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' });
      const kept = await connectPerson(holder.url, c.person.token);
      const revoked = await connectPerson(holder.url, second.body.access_token);
      proxy.cut();
      // Stored in Postgres; the message that would tell the holder is lost with the revoker's bus, and the
      // holder's own bus never dropped, so no reconnect makes it look either.
      expect((await httpClient(revoker.url).post('/auth/logout', {}, { token: second.body.access_token })).status).toBe(204);
      expect(await within(revoked.closed, 'the revoked socket')).toEqual({ code: 4401, reason: 'token revoked' });
      expect(kept.ws.readyState).toBe(WebSocket.OPEN);
      await kept.close();
    } finally {
      await Promise.all([revoker.stop(), holder.stop()]);
      await proxy.close();
    }
  });

  it('answers 503 with Retry-After while Redis is away, writing nothing, and takes the retry once it is back', async () => {
    const c = await setup();
    const { proxy, sibling } = await siblingBehindRedisProxy({ REDIS_COMMAND_TIMEOUT_MS: '500' });
    try {
      const viaSibling = httpClient(sibling.url);
      const body = { text: 'while Redis is away', client_message_id: 'redis-away' };
      proxy.cut();
      const refused = await viaSibling.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
      expect([refused.status, refused.body.code, refused.headers['retry-after']]).toEqual([503, 'RATE_LIMIT.UNAVAILABLE', '1']);
      const graph = await viaSibling.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, message: { text: 'reply' } });
      expect([graph.status, graph.body.error?.code]).toEqual([503, 2]);
      const [n] = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
      expect(n.n).toBe(0);

      // Live events need the bus: a new socket is refused before the upgrade, and a long-poll with nothing stored
      // is answered at once instead of hanging until Redis is back. Both used to wait for as long as it was away.
      const refusal = await upgradeRefusal(`${sibling.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`);
      expect([refusal.status, refusal.headers['retry-after'], refusal.body.code]).toEqual([503, '1', 'REALTIME.UNAVAILABLE']);
      const waiting = await viaSibling.get('/events?after=0&timeout=20', { token: c.person.token });
      expect([waiting.status, waiting.body.code, waiting.headers['retry-after']]).toEqual([503, 'REALTIME.UNAVAILABLE', '1']);
      // What needs no wait is still answered from Postgres: a poll that doesn't wait, and stored events.
      const now = await viaSibling.get('/events?timeout=0', { token: c.person.token });
      expect([now.status, now.body.events]).toEqual([200, []]);
      expect((await pageSays(api, c.pageToken, c.psid, { text: 'stored while the bus is away' })).status).toBe(200);
      const stored = await viaSibling.get('/events?after=0&timeout=20', { token: c.person.token });
      expect([stored.status, stored.body.events.map((e: any) => e.message?.text)]).toEqual([200, ['stored while the bus is away']]);

      proxy.restore();
      const taken = await waitFor('Redis back', async () => {
        const r = await viaSibling.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
        return r.status === 201 ? r : undefined;
      });
      expect(taken.body.seq).toBe(2);
      // The bus is back for new sockets too (its subscriber reconnects on its own schedule).
      const back = await waitFor('a socket upgraded again', () => connectPerson(sibling.url, c.person.token).catch(() => undefined));
      expect(back.hello.cursor).toBe(stored.body.cursor + 1);
      await back.close();
    } finally {
      await sibling.stop();
      await proxy.close();
    }
  });

  it('gives up on a bus that hangs: a new socket closes 1013 and a long-poll gets 503, and the late subscription is dropped', async () => {
    const c = await setup();
    const other = await signupPerson(api, 'Other');
    const { proxy, sibling } = await siblingBehindRedisProxy({ REDIS_COMMAND_TIMEOUT_MS: '500' });
    const admin = new Redis(TEST_REDIS_URL);
    const subscribedFor = async (userId: string) => ((await admin.call('PUBSUB', 'CHANNELS', `*${userId}*`)) as string[]).length;
    try {
      // Connections stay up and say nothing: no client notices, so only a deadline ends the wait.
      proxy.stall();
      const closed = await new Promise<{ code: number; reason: string; frames: number }>((resolve) => {
        let frames = 0;
        const ws = new WebSocket(`${sibling.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`);
        ws.on('message', () => frames++);
        ws.on('error', () => undefined);
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), frames }));
      });
      expect(closed).toEqual({ code: 1013, reason: 'event bus unavailable, try again later', frames: 0 });
      const poll = await httpClient(sibling.url).get('/events?after=0&timeout=20', { token: c.person.token });
      expect([poll.status, poll.body.code, poll.headers['retry-after']]).toEqual([503, 'REALTIME.UNAVAILABLE', '1']);

      proxy.flow();
      // Written after the held SUBSCRIBEs on the same connection: once it holds, Redis has had theirs.
      const witness = await connectPerson(sibling.url, other.token);
      // Nobody listens for the first person on the sibling any more: the subscription that landed late is dropped.
      await waitFor('the late subscription dropped', async () => (await subscribedFor(c.person.id)) === 0);
      const back = await connectPerson(sibling.url, c.person.token);
      expect(await subscribedFor(c.person.id)).toBe(1);
      expect((await pageSays(api, c.pageToken, c.psid, { text: 'after the hang' })).status).toBe(200);
      expect(await back.waitFor('the next message', (e) => e.message?.text === 'after the hang')).toMatchObject({ type: 'message' });
      await Promise.all([back.close(), witness.close()]);
    } finally {
      admin.disconnect();
      await sibling.stop();
      await proxy.close();
    }
  });

  it('refuses new sockets with 503 once shutdown has begun, while a webhook POST still holds the process open', async () => {
    // A platform of its own: the process shutting down must be the one whose sender holds the bot's POST.
    const own = await startTestPlatform({ env: { WEBHOOK_TIMEOUT_MS: '20000' } });
    const bot = await startBotReceiver('verify-me');
    let release!: () => void;
    const held = new Promise<number>((r) => (release = () => r(200)));
    bot.respond = () => held;
    try {
      const ownApi = httpClient(own.url);
      const c = await conversation(ownApi, bot);
      bot.secrets.push(c.app.secret);
      const open = await connectPerson(own.url, c.person.token);
      await personSays(ownApi, c.person, c.thread.id, 'held by the bot');
      await waitFor('the bot holding the POST', () => bot.inFlight === 1);
      const exited = own.stop('SIGTERM');
      // The open socket is told the process is going away; the process itself waits for the POST in flight.
      expect(await open.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      const refusal = await upgradeRefusal(`${own.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`);
      expect({ status: refusal.status, body: refusal.body }).toEqual({ status: 503, body: { statusCode: 503, code: 'UNAVAILABLE', message: 'This process is shutting down: connect again' } });
      release();
      expect(await exited).toBe(0);
    } finally {
      release();
      await bot.close();
      await own.close();
    }
  }, 60_000);

  it('answers a long-poll that comes once shutdown has begun at once (503, Retry-After), so it does not hold the process open', async () => {
    // As above: a held webhook POST keeps the process in its shutdown while the poll comes.
    const own = await startTestPlatform({ env: { WEBHOOK_TIMEOUT_MS: '20000' } });
    const bot = await startBotReceiver('verify-me');
    let release!: () => void;
    const held = new Promise<number>((r) => (release = () => r(200)));
    bot.respond = () => held;
    try {
      const ownApi = httpClient(own.url);
      const c = await conversation(ownApi, bot);
      bot.secrets.push(c.app.secret);
      const sent = await personSays(ownApi, c.person, c.thread.id, 'held by the bot');
      await waitFor('the bot holding the POST', () => bot.inFlight === 1);
      const exited = own.stop('SIGTERM');
      // The gateway's refusal says the realtime module's destroy hooks have run.
      await waitFor('shutdown begun', async () => (await upgradeRefusal(`${own.url.replace(/^http/, 'ws')}/ws?access_token=${c.person.token}`)).status === 503);
      const started = Date.now();
      // Stored events need no wait: still answered.
      const stored = await ownApi.get('/events?after=0&timeout=30', { token: c.person.token });
      expect([stored.status, stored.body.events.map((e: any) => e.message?.mid)]).toEqual([200, [sent.mid]]);
      // One that would wait used to wait its whole timeout, holding the HTTP server's close until the shutdown deadline.
      const waiting = await ownApi.get(`/events?after=${stored.body.cursor}&timeout=30`, { token: c.person.token });
      expect([waiting.status, waiting.body.code, waiting.headers['retry-after']]).toEqual([503, 'UNAVAILABLE', '1']);
      expect(Date.now() - started).toBeLessThan(5_000);
      release();
      expect(await exited).toBe(0);
    } finally {
      release();
      await bot.close();
      await own.close();
    }
  }, 60_000);

  it('closes every socket opened with a token when it is revoked (logout), on every api process', async () => {
    const c = await setup();
    const sibling = await t.spawnSibling('api');
    try {
      const second = await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' });
      expect(second.status).toBe(200);
      const otherDevice = await connectPerson(t.url, second.body.access_token);
      const here = await connectPerson(t.url, c.person.token);
      const there = await connectPerson(sibling.url, c.person.token);
      const out = await api.post('/auth/logout', {}, { token: c.person.token });
      expect(out.status).toBe(204);
      expect(await here.closed).toEqual({ code: 4401, reason: 'token revoked' });
      expect(await there.closed).toEqual({ code: 4401, reason: 'token revoked' });
      expect((await api.get('/me', { token: c.person.token })).status).toBe(401);
      expect((await httpClient(sibling.url).get('/me', { token: c.person.token })).status).toBe(401);
      await expect(connectPerson(t.url, c.person.token)).rejects.toThrow('401');
      // The person's other login is untouched.
      await pageSays(api, c.pageToken, c.psid, { text: 'still there on the other device' });
      await otherDevice.waitFor('event on the other device', (e) => e.type === 'message');
      expect((await api.post('/auth/logout', {}, { token: c.person.token })).status).toBe(401);
      await otherDevice.close();
    } finally {
      await sibling.stop();
    }
  });

  it('refuses a socket whose token is revoked while its upgrade reads it, and caches no verdict read before the revocation', async () => {
    const c = await setup();
    const dbUrl = new URL(t.db.url);
    const pgProxy = await startTcpProxy(dbUrl.hostname, Number(dbUrl.port || 5432));
    const viaProxy = new URL(t.db.url);
    viaProxy.host = pgProxy.address;
    // A long cache, so a verdict cached from a stale read would outlive the test.
    const sibling = await t.spawnSibling('api', { DATABASE_URL: viaProxy.toString(), AUTH_CACHE_TTL_MS: '60000' });
    try {
      const login = async () => (await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' })).body.access_token as string;
      const [racing, witness] = [await login(), await login()];
      const witnessSocket = await connectPerson(sibling.url, witness);
      const [{ now }] = await t.db.query('SELECT now()');
      pgProxy.holdReplies();
      // The sibling's upgrade reads the token (still there) from Postgres; the answer is held on its way back.
      const upgrade = (token: string) =>
        connectPerson(sibling.url, token).then(
          async (s) => (await s.close(), 'upgraded'),
          (err: Error) => err.message,
        );
      const first = upgrade(racing);
      await waitFor('the token read done in Postgres', async () => {
        const rows = await t.db.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND state = 'idle' AND query_start > $2 AND query LIKE '%FROM access_tokens t%'`,
          [t.db.name, now],
        );
        return rows.length > 0;
      });
      // Revoked through the main process meanwhile; the sibling hears it (its Redis is direct) before the answer.
      expect((await api.post('/auth/logout', {}, { token: racing })).status).toBe(204);
      expect((await api.post('/auth/logout', {}, { token: witness })).status).toBe(204);
      expect(await within(witnessSocket.closed, 'the witness socket')).toEqual({ code: 4401, reason: 'token revoked' });
      pgProxy.flow();
      // It used to open, and stay open until the next token check (WS_TOKEN_RECHECK_MS, a minute), and the stale
      // verdict was cached for the next upgrade and request.
      expect(await first).toBe('upgrade refused: 401');
      expect(await upgrade(racing)).toBe('upgrade refused: 401');
      expect((await httpClient(sibling.url).get('/me', { token: racing })).status).toBe(401);
    } finally {
      pgProxy.flow();
      await sibling.stop();
      await pgProxy.close();
    }
  });

  it('ends a waiting long-poll 401 when its token is revoked, on every api process, instead of answering it what comes next', async () => {
    const c = await setup();
    const sibling = await t.spawnSibling('api');
    try {
      const login = async () => (await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' })).body.access_token as string;
      const [revoked, kept] = [await login(), await login()];
      const siblingApi = httpClient(sibling.url);
      const here = api.get('/events?timeout=30', { token: revoked });
      const there = siblingApi.get('/events?timeout=30', { token: revoked });
      const other = api.get('/events?timeout=30', { token: kept });
      await pollsWaiting(2);
      await waitFor('the sibling poll waiting', async () => (await siblingApi.get('/metrics')).text.includes('switchboard_realtime_long_polls 1\n'));
      expect((await api.post('/auth/logout', {}, { token: revoked })).status).toBe(204);
      // Both used to go on waiting, and to hand the logged-out session the next event.
      for (const res of [await within(here, 'the poll here'), await within(there, 'the poll on the sibling')]) {
        expect([(res as any).status, (res as any).body?.code]).toEqual([401, 'AUTH.UNAUTHENTICATED']);
      }
      await pollsWaiting(1);
      const sent = await pageSays(api, c.pageToken, c.psid, { text: 'after the logout' });
      expect((await other).body.events.map((e: any) => e.message?.mid)).toEqual([sent.body.message_id]);
    } finally {
      await sibling.stop();
    }
  });

  it('closes a socket when its token expires', async () => {
    const c = await setup();
    // A fresh login, never verified yet, so no process holds its expiry cached (a real expiry never changes).
    const login = await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' });
    const token: string = login.body.access_token;
    const [{ expires_at }] = await t.db.query(
      `UPDATE access_tokens SET expires_at = now() + interval '1500 milliseconds' WHERE token_hash = $1 RETURNING expires_at`,
      [createHash('sha256').update(token).digest('hex')],
    );
    const sock = await connectPerson(t.url, token);
    expect(await sock.closed).toEqual({ code: 4401, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(expires_at).getTime());
  });

  it('reaps a socket that stops answering pings', async () => {
    const c = await setup();
    const sibling = await t.spawnSibling('api', { WS_HEARTBEAT_MS: '200' });
    const deaf = await connectPerson(sibling.url, c.person.token, { autoPong: false });
    const healthy = await connectPerson(sibling.url, c.person.token);
    const closed = await deaf.closed;
    expect(closed.code).toBe(1006);
    // A socket that answers stays, and still gets events.
    await pageSays(api, c.pageToken, c.psid, { text: 'still here?' });
    await healthy.waitFor('event after the reaping', (e) => e.type === 'message');
    await healthy.close();
    await sibling.stop();
  });

  it('closes a socket too slow to keep up, with a reason, and the reconnect catches up', async () => {
    const c = await setup();
    const slow = await connectPerson(t.url, c.person.token);
    const tcp = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
    tcp.pause();
    // Incompressible templates (~30 KB each) until the kernel's buffers are full and ours pass the bound.
    const big = () => ({
      attachment: {
        type: 'template',
        payload: {
          template_type: 'generic',
          elements: Array.from({ length: 10 }, (_, i) => ({
            title: `item ${i}`,
            buttons: Array.from({ length: 3 }, () => ({ type: 'postback', title: 'Buy', payload: randomBytes(700).toString('base64').slice(0, 1000) })),
          })),
        },
      },
    });
    let sent = 0;
    await waitFor(
      'the platform to give up on the slow socket',
      async () => {
        if (t.logs.join('').includes('closing a slow socket')) return true;
        const batch = await Promise.all(Array.from({ length: 10 }, () => pageSays(api, c.pageToken, c.psid, big())));
        expect(batch.every((r) => r.status === 200)).toBe(true);
        sent += batch.length;
        return false;
      },
      { timeoutMs: 120_000, intervalMs: 1 },
    );
    tcp.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1013);
    expect(closed.reason).toMatch(/too slow/);
    const got = slow.events.filter((e) => e.type === 'message');
    expect(got.length).toBeLessThan(sent);
    const last = assertGapFree(slow.events, 0);

    const back = await connectPerson(t.url, c.person.token, { after: last });
    await back.waitForCount('the rest', sent - last, (e) => e.type === 'message', 60_000);
    expect(assertGapFree(back.events, last)).toBe(sent);
    await back.close();
  }, 180_000);
});
