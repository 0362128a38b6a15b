// The Send API under load: bot POST /v25.0/me/messages → validated (libs/templates), window and rate checked,
// persisted with the person's event in one transaction → pushed to the person's socket.
// Build: tsc -p tsconfig.build.json; run: node --no-node-snapshot dist/test/bench/send.bench.js (needs Postgres and Redis).
// Last line: send req_per_s=… p50_ms=… p99_ms=… baseline_req_per_s=… ratio=…
//   p50_ms, p99_ms       Send API call → message on the person's socket, at SEND_BENCH_RATE calls/s (default 250:
//                        below saturation on a shared 2-core machine, so it measures latency rather than queueing)
//   req_per_s            Send API calls per second, each until its push arrived, SEND_BENCH_WINDOW in flight (saturation)
//   baseline_req_per_s   the same through the same parts without the framework, in its own process:
//                        Fastify route → pg insert → ws push (bench-support baselineServer, POST /reply)
//   ratio                req_per_s / baseline_req_per_s
// The line before it: CPU time per send during saturation (/proc, user + system) of the server process and of its
// Postgres backends, for each side, and the server's read/write system calls per send (/proc/<pid>/io): on a shared
// machine these move far less with other load than req_per_s does.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { TEST_REDIS_URL } from '../support/services';
import { createTestDatabase } from '../support/test-database';
import { agent, baselineServer, fixedRate, pct, post, saturate, startProcess, Target, connectBaseline } from './bench-support';

const RATE = Number(process.env.SEND_BENCH_RATE ?? 250);
const SECONDS = Number(process.env.SEND_BENCH_SECONDS ?? 6);
const WINDOW = Number(process.env.SEND_BENCH_WINDOW ?? 64);
const SATURATION_N = Number(process.env.SEND_BENCH_N ?? 4000);
const PEOPLE = Number(process.env.SEND_BENCH_PEOPLE ?? 32);
const MAIN = path.join(__dirname, '..', '..', 'src', 'main.js');

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// CPU seconds (user + system) a process has used so far; 0 once it is gone.
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

// Read and write system calls a process has made so far (sockets included).
function syscalls(pid: number): number {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

type Cpu = Map<string, number>;
// The server's process and every Postgres backend of its database, by pid.
async function cpuOf(serverPid: number, db: { query: (sql: string) => Promise<{ pid: number }[]> }): Promise<Cpu> {
  const rows = await db.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
  const out: Cpu = new Map([['node', cpuSeconds(serverPid)], ['io', syscalls(serverPid)]]);
  for (const r of rows) out.set(`pg:${r.pid}`, cpuSeconds(r.pid));
  return out;
}

function cpuPerSend(before: Cpu, after: Cpu, sends: number): { node: number; pg: number; io: number } {
  let node = 0;
  let pg = 0;
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (k === 'node') node += d;
    else if (k.startsWith('pg:')) pg += d;
  }
  const io = (after.get('io')! - before.get('io')!) / sends;
  return { node: (node * 1000) / sends, pg: (pg * 1000) / sends, io };
}

interface Side {
  target: Target;
  cpu: () => Promise<Cpu>;
  analyze: () => Promise<void>;
  stop: () => Promise<void>;
}

async function platformTarget(): Promise<Side> {
  const db = await createTestDatabase('sendbench');
  const { child, match } = await startProcess(
    [...(process.env.SEND_BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SEND_BENCH_PROF}`] : []), MAIN, 'all'],
    {
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATA_DIR: `/tmp/sb-send-bench-${randomBytes(4).toString('hex')}`,
      DATABASE_URL: db.url,
      DATABASE_POOL_SIZE: '20',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `bench${randomBytes(3).toString('hex')}`,
      SECRETS_KEY: randomBytes(32).toString('hex'),
      // The bench measures the path, not the limiter's refusals (the bucket is still spent on every call).
      SEND_RATE_PER_PAGE_PER_SECOND: '1000000',
      SEND_RATE_PER_APP_PER_SECOND: '1000000',
    },
    /"url":"(http:\/\/[^"]+)".*listening on/,
  );
  const base = match[1];
  const owner = await post(`${base}/auth/signup`, { username: `o${randomBytes(4).toString('hex')}`, password: 'bench-password', name: 'O' });
  const auth = { authorization: `Bearer ${owner.access_token}` };
  const page = await post(`${base}/pages`, { name: 'Bench' }, auth);
  const app = await post(`${base}/apps`, { name: 'Bench bot' }, auth);
  const pageToken = (await post(`${base}/pages/${page.id}/apps`, { app_id: app.id, subscribed_fields: ['messages'] }, auth)).page_access_token;

  let target: Target;
  const people: { psid: string; ws: WebSocket }[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const p = await post(`${base}/auth/signup`, { username: `p${randomBytes(4).toString('hex')}`, password: 'bench-password', name: 'P' });
    const th = await post(`${base}/threads`, { page_id: page.id }, { authorization: `Bearer ${p.access_token}` });
    // The person writes first: the messaging window is open.
    await post(`${base}/threads/${th.id}/messages`, { text: 'hi', client_message_id: 'hi' }, { authorization: `Bearer ${p.access_token}` });
    const [row] = await db.query('SELECT psid FROM threads WHERE id = $1', [th.id]);
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?access_token=${p.access_token}`);
    await new Promise((r, j) => (ws.once('message', r), ws.once('error', j)));
    ws.on('message', (data) => {
      const e = JSON.parse(String(data));
      if (e.type === 'message') target.onReply(e.message.text);
    });
    people.push({ psid: row.psid, ws });
  }
  const url = `${base}/v25.0/me/messages?access_token=${pageToken}`;
  target = {
    onReply: () => undefined,
    send: async (i, text) =>
      void (await post(url, { recipient: { id: people[i].psid }, messaging_type: 'RESPONSE', message: { text } })),
  };
  return {
    target,
    cpu: () => cpuOf(child.pid!, db),
    analyze: () => db.query('ANALYZE').then(() => undefined),
    stop: async () => {
      for (const p of people) p.ws.terminate();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await db.drop();
    },
  };
}

async function baselineTarget(): Promise<Side> {
  const db = await createTestDatabase('sendbase');
  const { child, match } = await startProcess([__filename, 'baseline-server'], { BASELINE_DB: db.url, BASELINE_BOT: 'http://127.0.0.1:9/' }, /baseline listening (\d+)/);
  const { target, sockets } = await connectBaseline(match[1], '/reply', PEOPLE);
  return {
    target,
    cpu: () => cpuOf(child.pid!, db),
    analyze: () => db.query('ANALYZE').then(() => undefined),
    stop: async () => {
      for (const s of sockets) s.terminate();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await db.drop();
    },
  };
}

// The scratch database is seconds old: its tables were never analyzed, so every prepared plan was made for
// empty tables (a scan of a whole thread's messages for the idempotency check looks free then). Autovacuum
// analyzes a live database as it grows and Postgres re-plans prepared statements when statistics change; after
// the warm-up each side analyzes, so both are measured in that steady state, not a new install's first minute.
async function main() {
  const sendApi = await platformTarget();
  await saturate(sendApi.target, 300, 'warm', WINDOW, PEOPLE);
  await sendApi.analyze();
  const lat = await fixedRate(sendApi.target, RATE, SECONDS, 'rate', PEOPLE);
  const sendCpu0 = await sendApi.cpu();
  const sendRate = await saturate(sendApi.target, SATURATION_N, 'sat', WINDOW, PEOPLE);
  const sendCpu = cpuPerSend(sendCpu0, await sendApi.cpu(), SATURATION_N);
  await sendApi.stop();

  const base = await baselineTarget();
  await saturate(base.target, 300, 'warm', WINDOW, PEOPLE);
  await base.analyze();
  const baseLat = await fixedRate(base.target, RATE, SECONDS, 'rate', PEOPLE);
  const baseCpu0 = await base.cpu();
  const baseRate = await saturate(base.target, SATURATION_N, 'sat', WINDOW, PEOPLE);
  const baseCpu = cpuPerSend(baseCpu0, await base.cpu(), SATURATION_N);
  await base.stop();
  await agent.close();

  const r = (x: number) => x.toFixed(1);
  console.log(`at ${RATE}/s for ${SECONDS}s (${lat.length} sends, ${PEOPLE} people): p50=${r(pct(lat, 50))} p90=${r(pct(lat, 90))} p99=${r(pct(lat, 99))} max=${r(lat[lat.length - 1])} ms`);
  console.log(`baseline at ${RATE}/s: p50=${r(pct(baseLat, 50))} p99=${r(pct(baseLat, 99))} ms`);
  console.log(`saturation (${WINDOW} in flight, ${SATURATION_N} sends): send api ${r(sendRate)}/s, baseline ${r(baseRate)}/s`);
  const ms = (x: number) => x.toFixed(3);
  console.log(
    `cpu per send at saturation: send api node=${ms(sendCpu.node)} pg=${ms(sendCpu.pg)} ms, ${sendCpu.io.toFixed(1)} syscalls; ` +
      `baseline node=${ms(baseCpu.node)} pg=${ms(baseCpu.pg)} ms, ${baseCpu.io.toFixed(1)} syscalls`,
  );
  console.log(
    `send req_per_s=${r(sendRate)} p50_ms=${r(pct(lat, 50))} p99_ms=${r(pct(lat, 99))} baseline_req_per_s=${r(baseRate)} ratio=${(sendRate / baseRate).toFixed(2)}`,
  );
}

if (process.argv[2] === 'baseline-server') {
  baselineServer().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
