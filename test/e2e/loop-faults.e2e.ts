import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BotReceiver, receivedEntries, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient, HttpResult } from '../support/http-client';
import { startOwnRedis } from '../support/own-redis';
import { assertGapFree, connectPerson, PersonSocket } from '../support/person-socket';
import { startReplyingBot } from '../support/replying-bot';
import { SpawnedPlatform, startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { startTcpProxy } from '../support/tcp-proxy';
import { waitFor } from '../support/wait-for';
import { ALL_FIELDS, clientId, conversationWithPsid, openThread, psidOf } from '../factories/messaging.factory';
import { pageWithSubscribedApp, signupPerson } from '../factories/registry.factory';

// The person's side of the loop under faults: an api process killed mid-burst, Redis emptied mid-conversation,
// a worker killed while receipts are in progress, Postgres cut mid-send. What was acknowledged is stored once,
// reaches the bot and the person's socket, in order, with no gap.

// A client that retries: the same request again, first where it was sent, then on `fallback`, until it is
// acknowledged (a connection refused or reset, or a 5xx, is "not acknowledged").
async function untilAcked(
  targets: () => HttpClient[],
  send: (api: HttpClient) => Promise<HttpResult>,
  ok: number[],
): Promise<HttpResult> {
  for (let i = 0; ; i++) {
    const list = targets();
    const api = list[Math.min(i, list.length - 1)];
    const res = await send(api).catch(() => undefined);
    if (res && ok.includes(res.status)) return res;
    if (res && res.status < 500) throw new Error(`refused: ${res.status} ${res.text}`);
    if (i > 200) throw new Error(`never acknowledged: ${res?.status} ${res?.text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The Page's message through the Send API, with its stored timestamp.
async function pageSaysVia(api: HttpClient, pageToken: string, psid: string, text: string) {
  const res = await api.post(`/v25.0/me/messages?access_token=${pageToken}`, {
    recipient: { id: psid },
    messaging_type: 'RESPONSE',
    message: { text },
  });
  if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
  // A time at or after it was stored: a read mark up to it covers it.
  return { mid: res.body.message_id as string, timestamp: Date.now() };
}

// Stored messages of a thread, in seq order.
const messagesOf = (t: TestPlatform, threadId: string) =>
  t.db.query<{ seq: number; mid: string; sender: string; text: string; client_message_id: string | null }>(
    `SELECT seq::int AS seq, mid, sender, content->>'text' AS text, client_message_id FROM messages
      WHERE thread_id = $1 ORDER BY seq`,
    [threadId],
  );

// The mids of one thread's messages and echoes as the bot first got them.
const botOrder = (bot: BotReceiver, psid: string): string[] => {
  const seen = new Set<string>();
  for (const [, m] of receivedEntries(bot)) {
    const mid = m.message?.mid;
    if (!mid || seen.has(mid)) continue;
    if ((m.message.is_echo ? m.recipient.id : m.sender.id) === psid) seen.add(mid);
  }
  return [...seen];
};

describe('the loop under faults', () => {
  it('an api process killed mid-burst: each acknowledged send stored once, at the bot and on the socket in order', async () => {
    const bot = await startBotReceiver('verify-me');
    const t = await startTestPlatform({ role: 'api', env: { REALTIME_RESYNC_MS: '500' } });
    try {
      const api = httpClient(t.url);
      const worker = await t.spawnSibling('worker', { WEBHOOK_RECONCILE_INTERVAL_MS: '200' });
      const victim = await t.spawnSibling('api');
      const ctx = await pageWithSubscribedApp(api, bot, ALL_FIELDS);
      bot.secrets.push(ctx.app.secret);
      const people = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const person = await signupPerson(api, `Customer ${i}`);
          const thread = await openThread(api, person, ctx.page.id);
          // The Send API's window opens at the person's last message: open it without writing one.
          await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [thread.id, Date.now()]);
          return { person, thread, psid: await psidOf(t.db, thread.id) };
        }),
      );
      // Each person's socket on the survivor, from the start of their log.
      const sockets = await Promise.all(people.map((p) => connectPerson(t.url, p.person.token)));

      let victimUp = true;
      const targets = () => (victimUp ? [httpClient(victim.url), api] : [api]);
      let acked = 0;
      // Requests the kill cut short (and that were sent again).
      let cut = 0;
      const K = 12;
      const sends = people.flatMap((p) => [
        // The person, one message after another, each retried under its client_message_id.
        (async () => {
          const out: string[] = [];
          for (let i = 0; i < K; i++) {
            const body = { text: `p${i}`, client_message_id: clientId() };
            const res = await untilAcked(
              targets,
              (a) =>
                a.post(`/threads/${p.thread.id}/messages`, body, { token: p.person.token }).catch((e) => {
                  cut++;
                  throw e;
                }),
              // 200: the retry found the message its first try stored.
              [200, 201],
            );
            out.push(res.body.mid);
            acked++;
          }
          return out;
        })(),
        // The bot, likewise, under an Idempotency-Key.
        (async () => {
          const out: string[] = [];
          for (let i = 0; i < K; i++) {
            const key = randomBytes(8).toString('hex');
            const res = await untilAcked(
              targets,
              (a) =>
                a
                  .post(
                    `/v25.0/me/messages?access_token=${ctx.pageToken}`,
                    { recipient: { id: p.psid }, messaging_type: 'RESPONSE', message: { text: `b${i}` } },
                    { headers: { 'idempotency-key': key } },
                  )
                  .catch((e) => {
                    cut++;
                    throw e;
                  }),
              [200],
            );
            out.push(res.body.message_id);
            acked++;
          }
          return out;
        })(),
      ]);
      await waitFor('the burst under way', () => acked >= 15, { intervalMs: 5 });
      await victim.stop('SIGKILL');
      victimUp = false;
      const mids = await Promise.all(sends);
      // The kill met sends in flight (six clients, each always sending).
      expect(cut).toBeGreaterThan(0);

      for (const [n, p] of people.entries()) {
        const [personMids, botMids] = [mids[2 * n], mids[2 * n + 1]];
        const rows = await messagesOf(t, p.thread.id);
        // Stored once each, with seqs 1..n, and nothing stored that wasn't acknowledged.
        expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
        expect(rows.map((r) => r.mid).sort()).toEqual([...personMids, ...botMids].sort());
        expect(rows.filter((r) => r.sender === 'person').map((r) => r.text)).toEqual(personMids.map((_, i) => `p${i}`));
        expect(rows.filter((r) => r.sender === 'page').map((r) => r.text)).toEqual(botMids.map((_, i) => `b${i}`));
        // The bot has every message (and echo) at least once, first in seq order.
        await waitFor(`thread ${n} at the bot`, () => botOrder(bot, p.psid).length === rows.length, {
          timeoutMs: 40_000,
        }).catch((e: Error) => {
          throw new Error(`${e.message}: ${botOrder(bot, p.psid).length}/${rows.length}`);
        });
        expect(botOrder(bot, p.psid)).toEqual(rows.map((r) => r.mid));
        // The socket on the survivor has each once, in cursor order with no gap.
        const s = sockets[n];
        // (Its other events, the Page's "Delivered" marks, have cursors of their own in the same log.)
        const isMessage = (e: any) => e.cursor !== undefined && (e.type === 'message' || e.type === 'echo');
        await s.waitForCount('every message on the socket', rows.length, isMessage);
        const last = assertGapFree(s.events, 0);
        expect(s.events.filter(isMessage).map((e) => e.message.mid)).toEqual(rows.map((r) => r.mid));
        // A client that reconnects from halfway catches up with the rest, once each.
        const logged = s.events.filter((e) => e.cursor !== undefined);
        const half = logged[Math.floor(logged.length / 2)].cursor;
        const again = await connectPerson(t.url, p.person.token, { after: half });
        await again.waitForCount('the catch-up', last - half, (e) => e.cursor !== undefined);
        expect(assertGapFree(again.events, half)).toBeGreaterThanOrEqual(last);
        expect(again.events.filter(isMessage).map((e) => e.message.mid)).toEqual(
          s.events.filter((e) => isMessage(e) && e.cursor > half).map((e) => e.message.mid),
        );
        await again.close();
        // And one that catches up by the thread's seq.
        const bySeq = await api.get(`/threads/${p.thread.id}/messages?after_seq=${K}&limit=50`, {
          token: p.person.token,
        });
        expect(bySeq.body.data.map((m: { mid: string }) => m.mid)).toEqual(rows.slice(K).map((r) => r.mid));
      }
      await Promise.all(sockets.map((s) => s.close()));
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await t.close();
      await bot.close();
    }
  }, 90_000);
  it('a worker killed while receipts are in progress: message_deliveries and message_reads arrive at their watermark, and the person\'s "Delivered" moves on', async () => {
    const bot = await startBotReceiver('verify-me');
    // Deliveries go only through the workers; the first one's claims lapse WEBHOOK_TIMEOUT_MS + 30 s after it dies.
    // One event a POST, so each can be held on its own.
    const t = await startTestPlatform({
      role: 'api',
      env: {
        WEBHOOK_RECONCILE_INTERVAL_MS: '200',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_MAX_BATCH: '1',
        REALTIME_RESYNC_MS: '500',
      },
    });
    let busy: Client | undefined;
    try {
      const api = httpClient(t.url);
      const ctx = await pageWithSubscribedApp(api, bot, ALL_FIELDS);
      bot.secrets.push(ctx.app.secret);
      const first = await t.spawnSibling('worker');
      const open = async (name: string) => {
        const person = await signupPerson(api, name);
        const thread = await openThread(api, person, ctx.page.id);
        await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [thread.id, Date.now()]);
        return { person, thread, psid: await psidOf(t.db, thread.id) };
      };
      const [a, b] = await Promise.all([open('Reader'), open('Writer')]);
      const items = () => receivedEntries(bot).map(([, m]) => m);
      // The first worker's POSTs of the receipts are held open until it dies; its successor's are answered.
      let holding = true;
      let releaseB!: () => void;
      const bHeld = new Promise<void>((r) => (releaseB = r));
      bot.respond = async (r) => {
        const body = r.body.toString();
        if (holding && (body.includes('"delivery"') || body.includes('"read"'))) await new Promise(() => undefined);
        if (body.includes('"text":"from b"')) await bHeld;
        return 200;
      };

      // a: the Page writes; the person's client marks it delivered, then read.
      const sent = await api.post(`/v25.0/me/messages?access_token=${ctx.pageToken}`, {
        recipient: { id: a.psid },
        messaging_type: 'RESPONSE',
        message: { text: 'for a' },
      });
      expect(sent.status).toBe(200);
      const [{ timestamp }] = await t.db.query(`SELECT timestamp::bigint AS timestamp FROM messages WHERE mid = $1`, [
        sent.body.message_id,
      ]);
      const delivered = await api.post(
        `/threads/${a.thread.id}/delivered`,
        { mids: [sent.body.message_id] },
        { token: a.person.token },
      );
      expect(delivered.body).toEqual({ watermark: Number(timestamp) });
      const read = await api.post(
        `/threads/${a.thread.id}/read`,
        { watermark: Number(timestamp) },
        { token: a.person.token },
      );
      expect(read.body).toEqual({ watermark: Number(timestamp) });
      // b: the person writes; the bot has it, and the worker's "Delivered" waits on the thread (its person is
      // writing again).
      const bSocket = await connectPerson(t.url, b.person.token);
      const fromB = await api.post(
        `/threads/${b.thread.id}/messages`,
        { text: 'from b', client_message_id: clientId() },
        { token: b.person.token },
      );
      expect(fromB.status).toBe(201);
      await waitFor('b at the bot', () => bot.received.some((r) => r.body.toString().includes('"text":"from b"')));
      busy = new Client({ connectionString: t.db.url });
      await busy.connect();
      await busy.query('BEGIN');
      await busy.query(`SELECT 1 FROM threads WHERE id = $1 FOR UPDATE`, [b.thread.id]);
      releaseB();
      // a's read waits behind its delivery receipt (one batch per thread in flight).
      await waitFor('the delivery receipt open at the bot', () => items().some((m) => m.delivery));
      await waitFor('b delivered, its "Delivered" waiting on the thread', async () => {
        const [d] = await t.db.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%page_delivered_seq%'`,
        );
        return d.n > 0;
      });
      await first.stop('SIGKILL');
      await busy.query('COMMIT');
      await busy.end();
      busy = undefined;
      holding = false;
      await t.spawnSibling('worker');

      // The dead worker's receipt statement was in Postgres: it lands once the thread is free, and the person's
      // socket hears of it though its publish died with the worker (REALTIME_RESYNC_MS).
      const markOf = async () =>
        (await t.db.query(`SELECT page_delivered_seq::int AS seq FROM threads WHERE id = $1`, [b.thread.id]))[0].seq;
      await waitFor('b "Delivered" stored', async () => (await markOf()) === fromB.body.seq);
      const mark = await bSocket.waitFor('b "Delivered"', (e) => e.type === 'delivery' && e.by === 'page', 20_000);
      expect(mark).toMatchObject({ seq: fromB.body.seq, watermark: fromB.body.timestamp });
      // The next one goes through the second worker.
      const again = await api.post(
        `/threads/${b.thread.id}/messages`,
        { text: 'again from b', client_message_id: clientId() },
        { token: b.person.token },
      );
      expect(again.status).toBe(201);
      const next = await bSocket.waitFor(
        'b "Delivered" again',
        (e) => e.type === 'delivery' && e.seq === again.body.seq,
        20_000,
      );
      expect(next).toMatchObject({ by: 'page', watermark: again.body.timestamp });
      expect(await markOf()).toBe(again.body.seq);
      expect(bSocket.events.filter((e) => e.type === 'delivery').map((e) => e.seq)).toEqual([
        fromB.body.seq,
        again.body.seq,
      ]);
      await bSocket.close();
      // a's receipts come again from the second worker once the first one's claim lapses, with their watermark.
      const answered = () =>
        bot.received
          .filter((r) => r.answeredAt !== undefined)
          .flatMap((r) => JSON.parse(r.body.toString()).entry.flatMap((e: any) => e.messaging ?? []));
      await waitFor(
        "a's receipts acknowledged",
        () => answered().some((m) => m.delivery) && answered().some((m) => m.read),
        { timeoutMs: 50_000, intervalMs: 200 },
      );
      const receipts = items().filter((m) => m.delivery || m.read);
      expect(receipts.every((m) => m.sender.id === a.psid)).toBe(true);
      expect(new Set(receipts.filter((m) => m.delivery).map((m) => JSON.stringify(m.delivery)))).toEqual(
        new Set([JSON.stringify({ mids: [sent.body.message_id], watermark: Number(timestamp) })]),
      );
      expect(new Set(receipts.filter((m) => m.read).map((m) => m.read.watermark))).toEqual(
        new Set([Number(timestamp)]),
      );
    } finally {
      await busy?.end();
      await t.close();
      await bot.close();
    }
  }, 120_000);
  it("Postgres cut while a person's send waits in its transaction: a 503 (never a 500), and the retry stores one message", async () => {
    const t = await startTestPlatform();
    const db = new URL(t.db.url);
    const proxy = await startTcpProxy(db.hostname, Number(db.port || 5432));
    let busy: Client | undefined;
    try {
      const api = httpClient(t.url);
      const c = await conversationWithPsid(api, t.db);
      // Two api processes behind the proxy. Postgres notices a client gone only when it next writes to it, unless
      // told to check while a statement runs: the first one's orphaned statement lands, the second one's is
      // rolled back.
      const behindProxy = async (options?: string) => {
        const url = new URL(t.db.url);
        url.host = proxy.address;
        if (options) url.searchParams.set('options', options);
        const p = await t.spawnSibling('api', { DATABASE_URL: url.toString(), DATABASE_QUERY_TIMEOUT_MS: '5000' });
        return { p, api: httpClient(p.url) };
      };
      const siblings = await Promise.all([behindProxy(), behindProxy('-c client_connection_check_interval=50')]);
      const statements = async (like: string) =>
        (
          await t.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1`,
            [like],
          )
        )[0].n as number;
      const APPEND = '%UPDATE threads th SET last_seq = th.last_seq + 1%';
      const sends: { status: number; code?: string; stored: number }[] = [];
      const orphans: number[] = [];
      for (const [i, { api: s }] of siblings.entries()) {
        const n = i + 1;
        const body = { text: `cut ${n}`, client_message_id: clientId() };
        // The thread's row is held (the person writing on another device), so the send waits inside its statement.
        busy = new Client({ connectionString: t.db.url });
        await busy.connect();
        await busy.query('BEGIN');
        await busy.query('SELECT 1 FROM threads WHERE id = $1 FOR UPDATE', [c.thread.id]);
        const pending = s.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
        // (pg_stat_activity keeps a query's first 1 kB: the statement's opening.)
        await waitFor('the send waiting on the thread', async () => (await statements(APPEND)) > 0);
        proxy.cut();
        const cut = await pending;
        if (n === 2) await waitFor('the orphaned statement rolled back', async () => (await statements(APPEND)) === 0);
        const [{ before }] = await t.db.query(`SELECT count(*)::int AS before FROM messages WHERE thread_id = $1`, [
          c.thread.id,
        ]);
        await busy.query('COMMIT');
        await busy.end();
        busy = undefined;
        await waitFor('the cut statement done', async () => (await statements(APPEND)) === 0);
        proxy.restore();
        const retried = await waitFor('the retry taken', async () => {
          const r = await s.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
          return r.status < 500 ? r : undefined;
        });
        expect([200, 201]).toContain(retried.status);
        const [{ stored }] = await t.db.query(
          `SELECT count(*)::int AS stored FROM messages WHERE thread_id = $1 AND client_message_id = $2`,
          [c.thread.id, body.client_message_id],
        );
        sends.push({ status: cut.status, code: cut.body?.code, stored });
        orphans.push(before);
      }
      expect(sends).toEqual([
        { status: 503, code: 'DATABASE.UNAVAILABLE', stored: 1 },
        { status: 503, code: 'DATABASE.UNAVAILABLE', stored: 1 },
      ]);
      const rows = await messagesOf(t, c.thread.id);
      expect(rows.map((r) => [r.seq, r.text])).toEqual([
        [1, 'cut 1'],
        [2, 'cut 2'],
      ]);
      // Messages stored before the thread was freed: none the first time (its statement still waited), one the
      // second (the first's orphan landed meanwhile, and the second's was rolled back).
      expect(orphans).toEqual([0, 1]);
      for (const { p } of siblings) expect(p.child.exitCode).toBeNull();
    } finally {
      await busy?.end();
      await t.close();
      await proxy.close();
    }
  }, 60_000);
  it('Redis emptied during a two-way conversation (FLUSHALL, then killed and restarted empty): nothing lost on any leg, no 5xx but while it is down', async () => {
    const { port, redis } = await startOwnRedis();
    let again: Awaited<ReturnType<typeof startOwnRedis>> | undefined;
    const bot = await startBotReceiver('verify-me');
    try {
      // The person's send limit as deployed: its bucket is in Redis, and goes with it.
      const t = await startTestPlatform({
        role: 'api',
        env: {
          REDIS_URL: `redis://127.0.0.1:${port}`,
          WEBHOOK_RECONCILE_INTERVAL_MS: '200',
          REALTIME_RESYNC_MS: '500',
          PERSON_SEND_RATE_PER_SECOND: '5',
          PERSON_SEND_BURST: '30',
        },
      });
      try {
        const api = httpClient(t.url);
        await t.spawnSibling('worker');
        const ctx = await pageWithSubscribedApp(api, bot, ALL_FIELDS);
        bot.secrets.push(ctx.app.secret);
        // The bot answers each message with "Got it: <text>" through the Send API, retried under its Idempotency-Key
        // until it is taken, as a bot that wants its reply to arrive does.
        const replies: Promise<unknown>[] = [];
        bot.respond = (r) => {
          for (const e of JSON.parse(r.body.toString()).entry)
            for (const m of e.messaging ?? []) {
              if (!m.message || m.message.is_echo) continue;
              replies.push(
                untilAcked(
                  () => [api],
                  (a) =>
                    a.post(
                      `/v25.0/me/messages?access_token=${ctx.pageToken}`,
                      {
                        recipient: { id: m.sender.id },
                        messaging_type: 'RESPONSE',
                        message: { text: `Got it: ${m.message.text}` },
                      },
                      { headers: { 'idempotency-key': m.message.mid } },
                    ),
                  [200],
                ),
              );
            }
          return 200;
        };
        const people = await Promise.all(
          [0, 1, 2].map(async (i) => {
            const person = await signupPerson(api, `Customer ${i}`);
            const thread = await openThread(api, person, ctx.page.id);
            return { person, thread, socket: await connectPerson(t.url, person.token) };
          }),
        );
        let down = false;
        const statuses: { status: number; down: boolean }[] = [];
        let rounds = 0;
        const R = 8;
        const talks = people.map(async (p) => {
          for (let i = 0; i < R; i++) {
            const body = { text: `q${i}`, client_message_id: clientId() };
            await untilAcked(
              () => [api],
              async (a) => {
                const res = await a.post(`/threads/${p.thread.id}/messages`, body, { token: p.person.token });
                statuses.push({ status: res.status, down });
                return res;
              },
              [200, 201],
            );
            await p.socket.waitFor(
              `the reply to q${i}`,
              (e) => e.type === 'message' && e.message.text === `Got it: q${i}`,
              30_000,
            );
            rounds++;
          }
        });
        await waitFor('a few rounds', () => rounds >= 5);
        const admin = new Redis({ port });
        await admin.flushall();
        admin.disconnect();
        await waitFor('more rounds', () => rounds >= 12);
        down = true;
        redis.kill('SIGKILL');
        await new Promise((r) => redis.once('exit', r));
        again = await startOwnRedis(port);
        down = false;
        await Promise.all(talks);
        await Promise.all(replies);

        // 503 (Redis away, with Retry-After) only while it was down; never a 500, never a 429 from a lost bucket.
        expect(statuses.filter((x) => ![200, 201].includes(x.status) && !(x.down && x.status === 503))).toEqual([]);
        for (const p of people) {
          const rows = await messagesOf(t, p.thread.id);
          const expected = Array.from({ length: R }, (_, i) => [`q${i}`, `Got it: q${i}`]).flat();
          expect(rows.map((r) => r.text)).toEqual(expected);
          expect(rows.map((r) => r.seq)).toEqual(expected.map((_, i) => i + 1));
          // The bot had each of the person's messages; the socket has every message once, with no gap.
          const psid = await psidOf(t.db, p.thread.id);
          await waitFor('the echoes at the bot', () => botOrder(bot, psid).length === rows.length);
          expect(botOrder(bot, psid)).toEqual(rows.map((r) => r.mid));
          await p.socket.waitForCount('every message', rows.length, (e) => e.type === 'message' || e.type === 'echo');
          assertGapFree(p.socket.events, 0);
          expect(
            p.socket.events.filter((e) => e.type === 'message' || e.type === 'echo').map((e) => e.message.mid),
          ).toEqual(rows.map((r) => r.mid));
          await p.socket.close();
        }
      } finally {
        await t.close();
      }
    } finally {
      await bot.close();
      redis.kill('SIGKILL');
      again?.redis.kill('SIGKILL');
    }
  }, 90_000);
  it("Postgres cut mid-transaction of a read mark and of a bot send with an Idempotency-Key: a 503 in the route's shape, and the retry writes once", async () => {
    const t = await startTestPlatform();
    const db = new URL(t.db.url);
    const proxy = await startTcpProxy(db.hostname, Number(db.port || 5432));
    let busy: Client | undefined;
    try {
      const api = httpClient(t.url);
      const c = await conversationWithPsid(api, t.db);
      await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now()]);
      const url = new URL(t.db.url);
      url.host = proxy.address;
      // Postgres checks for the gone client while the statement waits, so what the cut interrupted is rolled back.
      url.searchParams.set('options', '-c client_connection_check_interval=50');
      const sibling = await t.spawnSibling('api', { DATABASE_URL: url.toString(), DATABASE_QUERY_TIMEOUT_MS: '5000' });
      const s = httpClient(sibling.url);
      const waiting = async () =>
        (
          await t.db.query(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock' AND backend_type = 'client backend'
                AND query NOT LIKE '%FOR UPDATE%'`,
          )
        )[0].n as number;
      const first = await pageSaysVia(api, c.pageToken, c.psid, 'before');
      // Each call waits on the thread's row inside its transaction when the cut comes.
      const cutMidway = async (call: () => Promise<HttpResult>) => {
        busy = new Client({ connectionString: t.db.url });
        await busy.connect();
        await busy.query('BEGIN');
        await busy.query('SELECT 1 FROM threads WHERE id = $1 FOR UPDATE', [c.thread.id]);
        const pending = call();
        await waitFor('the call waiting on the thread', async () => (await waiting()) > 0);
        proxy.cut();
        const res = await pending;
        await waitFor('its statement rolled back', async () => (await waiting()) === 0);
        await busy.query('COMMIT');
        await busy.end();
        busy = undefined;
        proxy.restore();
        return res;
      };
      const read = () =>
        s.post(`/threads/${c.thread.id}/read`, { watermark: first.timestamp }, { token: c.person.token });
      const cutRead = await cutMidway(read);
      expect([cutRead.status, cutRead.body]).toEqual([
        503,
        expect.objectContaining({ statusCode: 503, code: 'DATABASE.UNAVAILABLE' }),
      ]);
      const readAgain = await waitFor('the read retried', async () => {
        const r = await read();
        return r.status < 500 ? r : undefined;
      });
      expect(readAgain.body).toEqual({ watermark: first.timestamp });

      const key = randomBytes(8).toString('hex');
      const send = () =>
        s.post(
          `/v25.0/me/messages?access_token=${c.pageToken}`,
          { recipient: { id: c.psid }, messaging_type: 'RESPONSE', message: { text: 'after the cut' } },
          { headers: { 'idempotency-key': key } },
        );
      const cutSend = await cutMidway(send);
      expect([cutSend.status, cutSend.body.error?.code, typeof cutSend.body.error?.fbtrace_id]).toEqual([
        503,
        2,
        'string',
      ]);
      const sendAgain = await waitFor('the send retried', async () => {
        const r = await send();
        return r.status < 500 ? r : undefined;
      });
      expect(sendAgain.status).toBe(200);
      expect((await send()).body).toEqual(sendAgain.body);
      const rows = await messagesOf(t, c.thread.id);
      expect(rows.map((r) => [r.seq, r.text])).toEqual([
        [1, 'before'],
        [2, 'after the cut'],
      ]);
      const receipts = await t.db.query(
        `SELECT count(*)::int AS n FROM user_events WHERE user_id = $1 AND type = 'read'`,
        [c.person.id],
      );
      expect(receipts[0].n).toBe(1);
    } finally {
      await busy?.end();
      await t.close();
      await proxy.close();
    }
  }, 60_000);
});
