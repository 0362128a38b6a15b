// Webhook gateway throughput and latency, with a raw undici baseline in the same run.
// Build: tsc -p tsconfig.build.json; run: node --no-node-snapshot dist/test/bench/webhooks.bench.js
// Needs Postgres (TEST_PG_ADMIN_URL, a scratch database is created and dropped) and Redis (TEST_REDIS_URL).
// Events enter through the real outbox path. BENCH_SOURCE=messages (default): people send POST /threads/:id/messages
// (the messaging transaction writes the outbox rows, then dispatches); latency runs from sending that request.
// BENCH_SOURCE=outbox: WebhooksService.recordPageEvent in a transaction, then dispatch; latency from commit.
// The platform runs in this process (role all); the receiver is a child process. Entries are matched by message mid.
//   paced phases   BENCH_RATE events/s for BENCH_SECONDS at receiver delays 0 and 100 ms: latency commit → receiver
//   drain phase    BENCH_BURST events kept while the endpoint is paused, then resumed: deliveries/s (capacity;
//                  BENCH_DRAIN_DELAY_MS gives the receiver a delay there)
//   baseline       undici posting each event's Messenger envelope to the same receiver at the endpoint's in-flight cap
// Last line: webhooks deliveries_per_s=… p50_ms=… p99_ms=… baseline_per_s=… ratio=…
//   (deliveries_per_s from the drain, p50/p99 from the 0 ms paced phase, ratio = deliveries_per_s / baseline_per_s)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Pool, request } from 'undici';
import { startPlatform } from '../../src/bootstrap/start';
import { loadEnv } from '../../src/config/load-env';
import { WebhooksService } from '../../src/webhooks/webhooks.service';

const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BURST = Number(process.env.BENCH_BURST ?? 5000);
const THREADS = Number(process.env.BENCH_THREADS ?? (process.env.BENCH_SOURCE === 'outbox' ? 200 : 50));
const IN_FLIGHT = Number(process.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT ?? 8);
const SOURCE = process.env.BENCH_SOURCE ?? 'messages';
const GENERATOR_IN_FLIGHT = Number(process.env.BENCH_GENERATOR_IN_FLIGHT ?? 8);
// The drain's receiver delay: 0 measures the gateway's capacity; a slow bot coming back to a backlog is the other case.
const DRAIN_DELAY_MS = Number(process.env.BENCH_DRAIN_DELAY_MS ?? 0);

const now = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

async function main() {
  const dbName = `sb_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(PG_ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-bench-'));

  const receiver = fork(path.join(__dirname, 'webhooks-receiver.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const arrivals = new Map<string, number>();
  const bodies: unknown[] = [];
  let keepBodies = false;
  let posts = 0;
  let maxOpenPosts = 0;
  let onArrival = () => undefined as void;
  const port = await new Promise<number>((resolve) => {
    receiver.on('message', (m: any) => {
      if (m.type === 'ready') resolve(m.port);
      if (m.type === 'batch') {
        posts += m.items.length;
        maxOpenPosts = m.maxOpen;
        for (const it of m.items) {
          it.ids.forEach((id: string) => {
            if (!arrivals.has(id)) arrivals.set(id, it.t);
          });
          if (keepBodies) bodies.push(...it.entries);
        }
        onArrival();
      }
    });
  });
  const setDelay = (ms: number) =>
    new Promise<void>((resolve) => {
      receiver.once('message', () => resolve());
      receiver.send({ type: 'delay', delayMs: ms });
    });

  const env = loadEnv({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATA_DIR: dataDir,
    DATABASE_URL: dbUrl.toString(),
    DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE ?? '10',
    REDIS_URL,
    REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    SECRETS_KEY: randomBytes(32).toString('hex'),
    ALLOW_INSECURE_WEBHOOKS: 'true',
    OUTBOUND_ALLOWLIST: '127.0.0.0/8',
    WEBHOOK_ENDPOINT_MAX_IN_FLIGHT: String(IN_FLIGHT),
    WEBHOOK_MAX_BATCH: process.env.WEBHOOK_MAX_BATCH ?? '100',
    WEBHOOK_CONCURRENCY: process.env.WEBHOOK_CONCURRENCY ?? '32',
    // Each bench person sends far faster than a human: the bucket is spent, never refuses.
    PERSON_SEND_RATE_PER_SECOND: '1000000',
    PERSON_SEND_BURST: '1000000',
  });
  const platform = await startPlatform(env, 'all');
  const api = async (method: string, p: string, body: unknown, token?: string) => {
    const res = await request(`${platform.url}${p}`, {
      method: method as 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.body.json()) as any;
    if (res.statusCode >= 300) throw new Error(`${method} ${p}: ${res.statusCode} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const person = await api('POST', '/auth/signup', { username: `b${randomBytes(5).toString('hex')}`, password: 'a-long-password', name: 'Bench' });
    const page = await api('POST', '/pages', { name: 'Bench' }, person.access_token);
    const app = await api('POST', '/apps', { name: 'Bench bot' }, person.access_token);
    await api('POST', `/pages/${page.id}/apps`, { app_id: app.id, subscribed_fields: ['messages'] }, person.access_token);
    await api('POST', `/v25.0/${app.id}/subscriptions`, {
      access_token: `${app.id}|${app.secret}`,
      object: 'page',
      callback_url: `http://127.0.0.1:${port}/webhook`,
      verify_token: 'bench',
      fields: 'messages',
    });

    const ds = platform.app.get(DataSource);
    const webhooks = platform.app.get(WebhooksService);
    // mid → when the event entered (request sent, or outbox commit).
    const committed = new Map<string, number>();
    let seq = 0;
    const people: { token: string; thread: string }[] = [];
    if (SOURCE === 'messages') {
      for (let i = 0; i < THREADS; i++) {
        const p = await api('POST', '/auth/signup', { username: `p${randomBytes(5).toString('hex')}`, password: 'a-long-password', name: `P${i}` });
        const th = await api('POST', '/threads', { page_id: page.id }, p.access_token);
        people.push({ token: p.access_token, thread: th.id });
      }
    }
    const oneEvent = async () => {
      const n = seq++;
      if (SOURCE === 'messages') {
        const who = people[n % people.length];
        const t = now();
        const res = await api('POST', `/threads/${who.thread}/messages`, { text: `bench ${n}`, client_message_id: `b${n}` }, who.token);
        committed.set(String(res.mid), t);
        return;
      }
      const psid = String(7_000_000 + (n % THREADS));
      const mid = `m_${n}`;
      const ids = await ds.transaction((m) =>
        webhooks.recordPageEvent(m, {
          pageId: page.id,
          field: 'messages',
          threadKey: psid,
          messaging: { sender: { id: psid }, recipient: { id: page.id }, timestamp: Date.now(), message: { mid, text: `bench ${n}` } },
        }),
      );
      committed.set(mid, now());
      await webhooks.dispatch(ids);
    };
    const waitAll = (ids: () => string[]) =>
      new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`not all delivered: ${arrivals.size}/${committed.size}`)), 120_000);
        const check = () => {
          if (ids().every((id) => arrivals.has(id))) {
            clearTimeout(deadline);
            onArrival = () => undefined;
            resolve();
          }
        };
        onArrival = check;
        check();
      });

    // Offered load at RATE/s: each 5 ms tick starts the events that are due (in parallel, bounded by the pool).
    const paced = async (delayMs: number) => {
      await setDelay(delayMs);
      committed.clear();
      arrivals.clear();
      posts = 0;
      const total = RATE * SECONDS;
      const start = now();
      let started = 0;
      const inflight = new Set<Promise<void>>();
      while (started < total) {
        const due = Math.min(total, Math.floor(((now() - start) / 1000) * RATE));
        // At most GENERATOR_IN_FLIGHT events at once: when the machine cannot keep up, the offered rate drops (and
        // is reported) instead of requests queuing without bound.
        while (started < due && inflight.size < GENERATOR_IN_FLIGHT) {
          const p = oneEvent().finally(() => inflight.delete(p));
          inflight.add(p);
          started++;
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(inflight);
      const offeredFor = (now() - start) / 1000;
      await waitAll(() => [...committed.keys()]);
      const lat = [...committed].map(([id, t]) => arrivals.get(id)! - t);
      const last = Math.max(...arrivals.values());
      const first = Math.min(...committed.values());
      const r = {
        delayMs,
        offered_per_s: Math.round(total / offeredFor),
        delivered_per_s: Math.round(total / ((last - first) / 1000)),
        p50: pct(lat, 50),
        p99: pct(lat, 99),
        max: Math.max(...lat),
      };
      console.log(
        `paced delay_ms=${delayMs} events=${total} offered_per_s=${r.offered_per_s} delivered_per_s=${r.delivered_per_s} ` +
          `p50_ms=${r.p50.toFixed(1)} p99_ms=${r.p99.toFixed(1)} max_ms=${r.max.toFixed(1)} posts=${posts} max_open_posts=${maxOpenPosts}`,
      );
      return r;
    };

    // Capacity: BENCH_BURST events written while the endpoint is paused (kept pending, as the gateway does), then
    // the developer resume: how fast the gateway drains a backlog to a 0 ms receiver (slow start included).
    const drain = async () => {
      await setDelay(DRAIN_DELAY_MS);
      committed.clear();
      arrivals.clear();
      bodies.length = 0;
      keepBodies = true;
      await ds.query(
        `INSERT INTO webhook_endpoints (app_id, paused_at, pause_reason) VALUES ($1, now(), 'bench')
         ON CONFLICT (app_id) DO UPDATE SET paused_at = now(), pause_reason = 'bench'`,
        [app.id],
      );
      let left = BURST;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (left-- > 0) await oneEvent();
        }),
      );
      if (arrivals.size) throw new Error('delivered while paused');
      const start = now();
      await api('POST', `/apps/${app.id}/webhook/resume`, {}, person.access_token);
      await waitAll(() => [...committed.keys()]);
      keepBodies = false;
      const last = Math.max(...arrivals.values());
      const perS = BURST / ((last - start) / 1000);
      console.log(
        `drain events=${BURST} delay_ms=${DRAIN_DELAY_MS} deliveries_per_s=${Math.round(perS)} posts=${posts} max_open_posts=${maxOpenPosts}`,
      );
      return perS;
    };

    // The same entries, one Messenger envelope per POST, posted by undici at the endpoint's in-flight cap.
    const baseline = async (entries: unknown[]) => {
      const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
      const payloads = entries.map((e) => JSON.stringify({ object: 'page', entry: [e] }));
      let i = 0;
      const start = now();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (i < payloads.length) {
            const body = payloads[i++];
            const res = await pool.request({
              method: 'POST',
              path: '/webhook?keep=0',
              headers: { 'content-type': 'application/json', 'x-bench-ids': `base_${i}` },
              body,
            });
            await res.body.dump();
          }
        }),
      );
      const perS = payloads.length / ((now() - start) / 1000);
      await pool.close();
      console.log(`baseline posts=${payloads.length} concurrency=${IN_FLIGHT} per_s=${Math.round(perS)}`);
      return perS;
    };

    await paced(0); // warm-up: connections, JIT, statement plans
    // The scratch database is seconds old, so its tables have never been analyzed and every prepared plan was
    // made for empty tables (a sequential scan of `messages` looks free then). Autovacuum analyzes a live
    // database's tables as they grow, and Postgres re-plans prepared statements when statistics change: this
    // measures that steady state, not the first minute of a new install.
    await ds.query('ANALYZE');
    const fast = await paced(0);
    await paced(100);
    posts = 0;
    const perS = await drain();
    const base = await baseline(bodies.slice(0, BURST));
    console.log(
      `webhooks deliveries_per_s=${Math.round(perS)} p50_ms=${fast.p50.toFixed(1)} p99_ms=${fast.p99.toFixed(1)} ` +
        `baseline_per_s=${Math.round(base)} ratio=${(perS / base).toFixed(2)}`,
    );
  } finally {
    await platform.stop();
    receiver.send({ type: 'exit' });
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
