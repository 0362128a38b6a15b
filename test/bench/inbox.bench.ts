// A Page's thread list at scale: GET /pages/{id}/inbox and Graph's GET /me/conversations over one Page with
// INBOX_BENCH_THREADS threads (default 200,000), with a raw keyset query in the same run.
// Build: tsc -p tsconfig.build.json; run: node --no-node-snapshot dist/test/bench/inbox.bench.js (needs Postgres and Redis;
// a scratch database is created, migrated by the platform at start, and dropped).
// The platform runs in this process (role all). The Page's people, threads and messages are bulk-inserted with
// generate_series (a mix of done, assigned, read and unread threads, 2.5 % with no message, timestamps at whole
// seconds so that some tie); then, through MessagingService, 1 % of the done threads' people write again.
//   append phases   person messages through MessagingService.sendPersonMessage, one at a time: to INBOX_BENCH_APPENDS
//                   different threads ("spread"), then round after round to 32 threads ("hot", as bench:loop's people):
//                   latency, Postgres CPU per append (/proc of the database's backends) and how many thread updates were HOT
//   read cases      each list read over HTTP, one at a time, for its first page and a deep one (a cursor half-way
//                   through the case's threads): p50/p99 and reads/s, over INBOX_BENCH_READS reads or
//                   INBOX_BENCH_SECONDS, whichever ends first (at least 5 reads)
//   burst           then INBOX_BENCH_BURST inbox threads (default 5,000) move into one minute, the newest: the inbox's
//                   first page, a page half-way through that minute and one that crosses out of it
//   baseline        the inbox folder's same two pages as ids by a hand-written index-only keyset query, straight to pg
// Last line: inbox reads_per_s=… p50_ms=… p99_ms=… deep_p50_ms=… deep_p99_ms=… baseline_reads_per_s=… ratio=…
//   (the inbox folder's first page, limit 50; ratio = reads_per_s / baseline_reads_per_s)
// INBOX_BENCH_EXPLAIN=1 logs each read's plan (auto_explain, ANALYZE and BUFFERS) to the Postgres server log instead.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { startPlatform } from '../../src/bootstrap/start';
import { loadEnv } from '../../src/config/load-env';
import { MessagingService } from '../../src/messaging/messaging.service';
import { connectApp, createApp, createPage, signupPerson } from '../factories/registry.factory';
import { httpClient } from '../support/http-client';
import { TEST_REDIS_URL } from '../support/services';
import { createTestDatabase } from '../support/test-database';
import { pct } from './bench-support';

const THREADS = Number(process.env.INBOX_BENCH_THREADS ?? 200_000);
const READS = Number(process.env.INBOX_BENCH_READS ?? 200);
const SECONDS = Number(process.env.INBOX_BENCH_SECONDS ?? 2);
const APPENDS = Number(process.env.INBOX_BENCH_APPENDS ?? 2000);
const EXPLAIN = process.env.INBOX_BENCH_EXPLAIN === '1';
const LIMIT = 50;
const ADMINS = 5;
const BURST = Number(process.env.INBOX_BENCH_BURST ?? 5000);

const CLK_TCK = 100;
// CPU ms (user + system) the database's backends have used so far, by pid (Linux /proc; empty elsewhere).
async function backendCpu(pg: Pool): Promise<Map<number, number>> {
  const { rows } = await pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK);
    } catch {
      // gone, or no /proc
    }
  }
  return out;
}

// The people, threads and messages of one Page, by the thousand: ids are numeric strings as the platform makes
// them. Everything derives from the row number, so each run seeds the same Page.
function seedSql(pageId: string, admins: string[]) {
  const assignees = `ARRAY[${admins.map((a) => `'${a}'`).join(',')}]::varchar[]`;
  const names = `ARRAY['Ada','Bob','Cy','Dee','Eve','Fay','Gus','Hal','Ivy','Jo','Kim','Lu','Max','Ned','Oz','Pia','Quin','Ray','Sue','Tom']`;
  return [
    `INSERT INTO users (id, username, password_hash, name)
     SELECT (100000000000000 + i)::text, 'bench' || i, 'x', (${names})[1 + (i % 20)::int] || ' ' || i FROM generate_series(1::bigint, ${THREADS}) i`,
    // 60 % done, 25 % assigned (to one of the admins), 20 % unread, 2.5 % with no message yet; last activity over
    // 90 days at whole seconds (ties), created in order over 100 days.
    `INSERT INTO threads (id, page_id, user_id, psid, last_seq, last_timestamp, activity_minute, person_last_at, page_read_seq,
                          page_done_seq, assignee_user_id, created_at)
     SELECT (200000000000000 + i)::text, '${pageId}', (100000000000000 + i)::text, (300000000000000 + i)::text,
            CASE WHEN silent THEN 0 ELSE 2 END, CASE WHEN silent THEN 0 ELSE ts END, CASE WHEN NOT silent THEN ts / 60000 END,
            CASE WHEN silent THEN 0 ELSE ts END,
            CASE WHEN (i * 7) % 100 < 20 THEN 0 ELSE 2 END,
            CASE WHEN NOT silent AND (i * 7919) % 100 < 60 THEN 2 END,
            CASE WHEN (i * 104729) % 100 < 25 THEN (${assignees})[1 + ((i * 31) % ${admins.length})::int] END,
            now() - interval '100 days' + i * (interval '100 days' / ${THREADS}) + (i % 997) * interval '1 microsecond'
       FROM (SELECT i, i % 40 = 0 AS silent,
                    ((extract(epoch FROM now()) * 1000)::bigint / 1000 - (i * 2654435761) % (90 * 86400)) * 1000 AS ts
               FROM generate_series(1::bigint, ${THREADS}) i) s`,
    // The person's message, then the Page's answer.
    `INSERT INTO messages (mid, thread_id, seq, sender, app_id, kind, timestamp, content)
     SELECT 'm_bench_' || t.id || '_' || s, t.id, s, CASE s WHEN 1 THEN 'person' ELSE 'page' END,
            CASE s WHEN 2 THEN '263902037430900' END, 'message', t.last_timestamp - (2 - s) * 1000,
            jsonb_build_object('text', CASE s WHEN 1 THEN 'Where is my order ' || t.id || '?' ELSE 'It left the warehouse today.' END)
       FROM threads t CROSS JOIN generate_series(1, 2) s WHERE t.page_id = '${pageId}' AND t.last_seq > 0`,
  ];
}

interface Timing {
  n: number;
  p50: number;
  p99: number;
  perSecond: number;
}

// One read at a time, after 3 unmeasured ones.
async function timeReads(read: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < (EXPLAIN ? 1 : 3); i++) await read();
  const lat: number[] = [];
  const start = performance.now();
  while (!EXPLAIN && lat.length < READS && (lat.length < 5 || performance.now() - start < SECONDS * 1000)) {
    const t0 = performance.now();
    await read();
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  const total = lat.reduce((s, x) => s + x, 0);
  return { n: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), perSecond: lat.length ? (lat.length * 1000) / total : NaN };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : 'n/a');
const show = (t: Timing) => `n=${t.n} p50=${f1(t.p50)} p99=${f1(t.p99)} ms ${f1(t.perSecond)} reads/s`;

async function main() {
  const db = await createTestDatabase('inboxbench');
  const pg = new Pool({ connectionString: db.url, max: 2 });
  const env = loadEnv({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATA_DIR: path.join(os.tmpdir(), `sb-inbox-bench-${randomBytes(4).toString('hex')}`),
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    SECRETS_KEY: randomBytes(32).toString('hex'),
    PERSON_SEND_RATE_PER_SECOND: '1000000',
    PERSON_SEND_BURST: '1000000',
  });
  const platform = await startPlatform(env, 'all');
  try {
    const api = httpClient(platform.url!);
    const owner = await signupPerson(api, 'Bench Owner');
    const page = await createPage(api, owner, 'Bench Shop');
    const admins = [owner];
    for (let i = 1; i < ADMINS; i++) {
      const helper = await signupPerson(api, `Agent ${i}`);
      const added = await api.post(`/pages/${page.id}/admins`, { username: helper.username }, { token: owner.token });
      if (added.status !== 201) throw new Error(`add admin: ${added.status} ${added.text}`);
      admins.push(helper);
    }
    const app = await createApp(api, owner, 'Bench Agents Tool');
    const pageToken = await connectApp(api, owner, page.id, app.id, ['messages']);

    let t0 = performance.now();
    for (const sql of seedSql(page.id, admins.map((a) => a.id))) await pg.query(sql);
    await pg.query('VACUUM ANALYZE users, threads, messages');
    console.log(`seeded ${THREADS} threads in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Through the real path: the person's message is what brings a done conversation back to the inbox.
    const messaging = platform.app.get(MessagingService);
    const say = (t: { id: string; user_id: string }, text: string) =>
      messaging.sendPersonMessage(t.user_id, t.id, { text, client_message_id: randomBytes(8).toString('hex') });
    const { rows: comeBack } = await pg.query<{ id: string; user_id: string }>(
      `SELECT id, user_id FROM threads WHERE page_id = $1 AND page_done_seq IS NOT NULL AND (id::bigint * 13) % 100 = 0`,
      [page.id],
    );
    t0 = performance.now();
    for (const t of comeBack) await say(t, 'One more thing');
    console.log(`${comeBack.length} people of done threads wrote again in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // --- the write path: what every message pays for the list's indexes ---
    const appendPhase = async (label: string, targets: { id: string; user_id: string }[]) => {
      const stat = () =>
        pg.query<{ upd: string; hot: string }>(`SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'threads'`);
      // Each backend reports its table counters within a second of going idle.
      await new Promise((r) => setTimeout(r, 1500));
      const [s0] = (await stat()).rows;
      const cpu0 = await backendCpu(pg);
      const lat: number[] = [];
      for (let i = 0; i < targets.length; i++) {
        const at = performance.now();
        await say(targets[i], `bench ${label} ${i}`);
        lat.push(performance.now() - at);
      }
      const cpu1 = await backendCpu(pg);
      await new Promise((r) => setTimeout(r, 1500));
      const [s1] = (await stat()).rows;
      let pgMs = 0;
      for (const [pid, ms] of cpu1) pgMs += ms - (cpu0.get(pid) ?? 0);
      lat.sort((a, b) => a - b);
      const upd = Number(s1.upd) - Number(s0.upd);
      const hot = Number(s1.hot) - Number(s0.hot);
      console.log(
        `append ${label}: n=${lat.length} p50=${f1(pct(lat, 50))} p99=${f1(pct(lat, 99))} ms ` +
          `${f1((lat.length * 1000) / lat.reduce((s, x) => s + x, 0))} appends/s, postgres cpu ${(pgMs / lat.length).toFixed(3)} ms/append, ` +
          `thread updates ${upd} of which HOT ${upd ? ((100 * hot) / upd).toFixed(0) : 0} %`,
      );
    };
    const { rows: spread } = await pg.query<{ id: string; user_id: string }>(
      `SELECT id, user_id FROM threads WHERE page_id = $1 AND last_seq > 0 AND page_done_seq IS NULL ORDER BY (id::bigint * 7) % 1009, id LIMIT $2`,
      [page.id, APPENDS],
    );
    await appendPhase('spread', spread);
    const hot32 = spread.slice(0, 32);
    await appendPhase('hot', Array.from({ length: APPENDS }, (_, i) => hot32[i % 32]));

    await pg.query('ANALYZE threads');
    if (EXPLAIN) {
      await pg.query(`LOAD 'auto_explain'`).catch(() => undefined);
      await pg.query(
        `ALTER DATABASE "${db.name}" SET session_preload_libraries = 'auto_explain'; ` +
          `ALTER DATABASE "${db.name}" SET auto_explain.log_min_duration = 0; ALTER DATABASE "${db.name}" SET auto_explain.log_analyze = on; ` +
          `ALTER DATABASE "${db.name}" SET auto_explain.log_buffers = on; ALTER DATABASE "${db.name}" SET auto_explain.log_nested_statements = on`,
      );
      // New connections take the settings: the platform's pool opens them on demand after these end.
      await pg.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
    }

    // --- the reads ---
    const helper = admins[1];
    const dynamicDone = `(t.page_done_seq IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM messages d WHERE d.thread_id = t.id AND d.seq > t.page_done_seq AND d.sender = 'person'))`;
    const [{ psid }] = (await pg.query<{ psid: string }>(`SELECT psid FROM threads WHERE page_id = $1 AND last_seq > 0 ORDER BY id LIMIT 1 OFFSET 777`, [page.id])).rows;
    const [{ id: someThread }] = (await pg.query<{ id: string }>(`SELECT id FROM threads WHERE psid = $1`, [psid])).rows;
    const inbox = (q: string) => (cursor?: string) => `/pages/${page.id}/inbox?limit=${LIMIT}${q}${cursor ? `&cursor=${cursor}` : ''}`;
    const graph = (q: string) => (cursor?: string) =>
      `/v25.0/me/conversations?limit=${LIMIT}&fields=id,updated_time,snippet,unread_count${q}${cursor ? `&after=${Buffer.from(cursor).toString('base64url')}` : ''}&access_token=${encodeURIComponent(pageToken)}`;
    // Each case: the route, and the same threads in SQL (the deep page's cursor is the one half-way through them).
    const cases: { label: string; url: (cursor?: string) => string; where?: string; token?: string }[] = [
      { label: 'inbox', url: inbox(''), where: `NOT ${dynamicDone}` },
      { label: 'done', url: inbox('&folder=done'), where: dynamicDone },
      { label: 'all', url: inbox('&folder=all'), where: 'true' },
      { label: 'inbox assignee=me', url: inbox('&assignee=me'), where: `NOT ${dynamicDone} AND t.assignee_user_id = '${owner.id}'` },
      { label: 'inbox assignee=none', url: inbox('&assignee=none'), where: `NOT ${dynamicDone} AND t.assignee_user_id IS NULL` },
      { label: 'done assignee=<id>', url: inbox(`&folder=done&assignee=${helper.id}`), where: `${dynamicDone} AND t.assignee_user_id = '${helper.id}'` },
      { label: 'all assignee=<id>', url: inbox(`&folder=all&assignee=${helper.id}`), where: `t.assignee_user_id = '${helper.id}'` },
      { label: 'all q=ada', url: inbox('&folder=all&q=ada'), where: `lower(u.name) LIKE '%ada%'` },
      { label: 'inbox q=ada', url: inbox('&q=ada'), where: `NOT ${dynamicDone} AND lower(u.name) LIKE '%ada%'` },
      { label: 'all q=<no match>', url: inbox('&folder=all&q=nobody-is-called-this') },
      { label: 'inbox q=<no match>', url: inbox('&q=nobody-is-called-this') },
      // "Oz 1234" and the few whose number starts with 1234 (6 people at 200,000).
      { label: 'all q=<few>', url: inbox('&folder=all&q=oz%201234'), where: `lower(u.name) LIKE '%oz 1234%'` },
      { label: 'inbox q=<few>', url: inbox('&q=oz%201234'), where: `NOT ${dynamicDone} AND lower(u.name) LIKE '%oz 1234%'` },
      // Too short for trigrams: one that most names have, one that nobody has.
      { label: 'inbox q=a', url: inbox('&q=a'), where: `NOT ${dynamicDone} AND lower(u.name) LIKE '%a%'` },
      { label: 'inbox q=<2, no match>', url: inbox('&q=zq') },
      { label: 'graph all', url: graph(''), where: 'true' },
      { label: 'graph inbox', url: graph('&folder=inbox'), where: `NOT ${dynamicDone}` },
      { label: 'graph page_done', url: graph('&folder=page_done'), where: dynamicDone },
      { label: 'graph user_id', url: graph(`&user_id=${psid}`) },
      { label: 'graph t_<id>', url: () => `/v25.0/t_${someThread}?fields=id,updated_time,snippet&access_token=${encodeURIComponent(pageToken)}` },
    ];
    const results = new Map<string, { first: Timing; deep?: Timing }>();
    const runCases = async (cases: { label: string; url: (cursor?: string) => string; where?: string; token?: string; deepAt?: string }[]) => {
    for (const c of cases) {
      let deepCursor: string | undefined;
      let rows = '';
      if (c.where) {
        const { rows: found } = await pg.query<{ n: string; cursor: string | null }>(
          `WITH s AS (
             SELECT t.last_timestamp || '.' || (extract(epoch FROM t.created_at) * 1000000)::bigint || '.' || t.id AS cursor,
                    row_number() OVER (ORDER BY t.last_timestamp DESC, t.created_at DESC, t.id DESC) AS k, count(*) OVER () AS n
               FROM threads t JOIN users u ON u.id = t.user_id
              WHERE t.page_id = $1 AND t.last_seq > 0 AND ${c.where})
           SELECT n, cursor FROM s WHERE k = ${c.deepAt ?? 'greatest(1, n / 2)'}`,
          [page.id],
        );
        deepCursor = found[0]?.cursor ?? undefined;
        rows = ` of ${found[0]?.n ?? 0}`;
      }
      const read = (cursor?: string) => async () => {
        const res = await api.get(c.url(cursor), { token: c.token ?? owner.token });
        if (res.status !== 200) throw new Error(`${c.label}: ${res.status} ${res.text}`);
      };
      const first = await timeReads(read());
      const deep = deepCursor ? await timeReads(read(deepCursor)) : undefined;
      results.set(c.label, { first, deep });
      console.log(`${c.label.padEnd(22)}${rows.padEnd(10)} first: ${show(first)}${deep ? `; deep: ${show(deep)}` : ''}`);
    }
    };
    await runCases(cases);

    // A burst: BURST inbox threads active within one minute, the newest (a broadcast answered at once). The list
    // sorts a minute's threads as its scan crosses them, so a page inside that minute sorts all of them.
    await pg.query(
      `UPDATE threads t SET last_timestamp = b.ts, activity_minute = b.ts / 60000
         FROM (SELECT id, ((extract(epoch FROM now()) * 1000)::bigint / 60000 + 1) * 60000 + row_number() OVER (ORDER BY id) * 59000 / ${BURST} AS ts
                 FROM threads WHERE page_id = $1 AND last_seq > 0 AND page_done_seq IS NULL ORDER BY (id::bigint * 11) % 1013, id LIMIT ${BURST}) b
        WHERE t.id = b.id`,
      [page.id],
    );
    await pg.query('VACUUM ANALYZE threads');
    await runCases([
      // Deep: half-way through the burst; across: 20 threads before its end, so the page crosses into older minutes.
      { label: `burst inbox mid`, url: inbox(''), where: `NOT ${dynamicDone}`, deepAt: `${BURST / 2}` },
      { label: `burst inbox across`, url: inbox(''), where: `NOT ${dynamicDone}`, deepAt: `${BURST - 20}` },
      { label: `burst all across`, url: inbox('&folder=all'), where: 'true', deepAt: `${BURST - 20}` },
      { label: `burst none across`, url: inbox('&assignee=none'), where: `NOT ${dynamicDone} AND t.assignee_user_id IS NULL`, deepAt: `${Math.round(BURST * 0.75) - 20}` },
    ]);

    // --- the baseline: the inbox folder's ids by an index-only keyset scan, no framework ---
    await pg.query(
      `CREATE TABLE bench_inbox_keys AS
         SELECT t.page_id, ${dynamicDone} AS done, t.last_timestamp, (extract(epoch FROM t.created_at) * 1000000)::bigint AS created_us, t.id
           FROM threads t WHERE t.page_id = '${page.id}' AND t.last_seq > 0`,
    );
    await pg.query(`CREATE INDEX bench_inbox_keys_idx ON bench_inbox_keys (page_id, done, last_timestamp, created_us, id)`);
    await pg.query('VACUUM ANALYZE bench_inbox_keys');
    const inboxDeep = (
      await pg.query<{ cursor: string }>(
        `SELECT last_timestamp || '.' || created_us || '.' || id AS cursor FROM bench_inbox_keys WHERE page_id = $1 AND NOT done
          ORDER BY last_timestamp DESC, created_us DESC, id DESC OFFSET (SELECT count(*) / 2 - 1 FROM bench_inbox_keys WHERE NOT done) LIMIT 1`,
        [page.id],
      )
    ).rows[0].cursor;
    const keyset = (cursor?: string) => async () => {
      const [ts, us, id] = cursor ? cursor.split('.') : [null, null, null];
      const { rows } = await pg.query({
        name: cursor ? 'bench_keyset_after' : 'bench_keyset_first',
        text: `SELECT id, last_timestamp, created_us FROM bench_inbox_keys WHERE page_id = $1 AND NOT done
                ${cursor ? 'AND (last_timestamp, created_us, id) < ($3, $4, $5)' : ''}
                ORDER BY last_timestamp DESC, created_us DESC, id DESC LIMIT $2`,
        values: cursor ? [page.id, LIMIT + 1, ts, us, id] : [page.id, LIMIT + 1],
      });
      if (rows.length !== LIMIT + 1) throw new Error(`baseline read ${rows.length} rows`);
    };
    const baseFirst = await timeReads(keyset());
    const baseDeep = await timeReads(keyset(inboxDeep));
    console.log(`baseline (index-only keyset, ids) first: ${show(baseFirst)}; deep: ${show(baseDeep)}`);

    const main = results.get('inbox')!;
    const r = (x: number) => f1(x);
    console.log(
      `inbox reads_per_s=${r(main.first.perSecond)} p50_ms=${r(main.first.p50)} p99_ms=${r(main.first.p99)} ` +
        `deep_p50_ms=${r(main.deep!.p50)} deep_p99_ms=${r(main.deep!.p99)} baseline_reads_per_s=${r(baseFirst.perSecond)} ` +
        `ratio=${(main.first.perSecond / baseFirst.perSecond).toPrecision(2)}`,
    );
  } finally {
    await platform.stop();
    await pg.end();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
