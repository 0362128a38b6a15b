// Shared by the bench:* scripts: HTTP helpers, process spawning, the fixed-rate and saturation drivers,
// and the framework-free baseline server (Fastify + pg + ws) each bench compares against.
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { Pool as PgPool } from 'pg';
import { Agent, request } from 'undici';
import WebSocket, { WebSocketServer } from 'ws';

export const agent = new Agent({ connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${text}`);
  // The baseline's bot answers plain text.
  return text && res.headers['content-type']?.includes('json') ? JSON.parse(text) : text || undefined;
}

// The flags package.json's start scripts and the Dockerfile run the platform with, given to the platform and the
// baseline alike. isolated-vm needs --no-node-snapshot; a 64 MB semi-space lets a request's short-lived garbage die
// young instead of surviving a scavenge (the Send API used ~7% less CPU per call).
const PLATFORM_NODE_FLAGS = ['--no-node-snapshot', '--max-semi-space-size=64'];

export function startProcess(args: string[], env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, [...PLATFORM_NODE_FLAGS, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // BENCH_LOG=<file>: the child's output goes there too, for looking into a bad run.
  const log = process.env.BENCH_LOG ? createWriteStream(process.env.BENCH_LOG, { flags: 'a' }) : null;
  return new Promise((resolve, reject) => {
    const onData = (b: Buffer) => {
      log?.write(b);
      if (out.length > 1_000_000) return;
      out += b.toString();
      const m = ready.exec(out);
      if (m) resolve({ child, match: m });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)));
  });
}

// CPU time (ms) used so far by the processes on a bench's path, from /proc (Linux; undefined elsewhere): the
// server under test, every Postgres and Redis process on the machine (a bench machine runs no other load), and
// this process (the clients and the bot). Differences over a phase give each one's share of a loop.
export interface CpuTotals {
  server: number;
  postgres: number;
  redis: number;
  bench: number;
}

function cpuTotals(serverPid: number | undefined): CpuTotals | undefined {
  const totals: CpuTotals = { server: 0, postgres: 0, redis: 0, bench: 0 };
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime + stime, in clock ticks: 100 per second on Linux (USER_HZ).
    const ms = (Number(fields[11]) + Number(fields[12])) * 10;
    const pid = Number(entry);
    if (pid === serverPid) totals.server += ms;
    else if (pid === process.pid) totals.bench += ms;
    else if (comm === 'postgres') totals.postgres += ms;
    else if (comm.startsWith('redis-server')) totals.redis += ms;
  }
  return totals;
}

// Runs one phase of a bench and says what each process group spent on it per loop, in ms of CPU:
// "server=0.52 postgres=0.61 …".
export async function withCpuPerLoop<T>(
  serverPid: number | undefined,
  phase: () => Promise<T>,
  loopsOf: (result: T) => number,
): Promise<{ result: T; cpu: string }> {
  const before = cpuTotals(serverPid);
  const result = await phase();
  const after = cpuTotals(serverPid);
  const loops = loopsOf(result);
  const cpu =
    !before || !after
      ? 'n/a (no /proc)'
      : (Object.keys(after) as (keyof CpuTotals)[]).map((k) => `${k}=${((after[k] - before[k]) / loops).toFixed(2)}`).join(' ');
  return { result, cpu };
}

export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export interface Target {
  // Sends message `text` from person `i`; the reply arrives through onReply.
  send(person: number, text: string): Promise<void>;
  onReply: (text: string) => void;
}

// A Target over the baseline server: one socket per person receives replies; `send` POSTs to `route`.
export async function connectBaseline(port: string, route: string, people: number): Promise<{ target: Target; sockets: WebSocket[] }> {
  const target: Target = {
    onReply: () => undefined,
    send: async (person, text) => void (await post(`http://127.0.0.1:${port}${route}`, { person, text })),
  };
  const sockets: WebSocket[] = [];
  for (let i = 0; i < people; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?person=${i}`);
    await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
    ws.on('message', (data) => target.onReply(JSON.parse(String(data)).message.text));
    sockets.push(ws);
  }
  return { target, sockets };
}

// Fixed rate: latency. Returns per-message ms.
export async function fixedRate(target: Target, rate: number, seconds: number, label: string, people: number): Promise<number[]> {
  const n = Math.round(rate * seconds);
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  target.onReply = (text) => {
    const t0 = sentAt.get(text);
    if (t0 === undefined) return;
    sentAt.delete(text);
    lat.push(performance.now() - t0);
    if (lat.length === n) done();
  };
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const text = `${label}-${i}`;
    sentAt.set(text, performance.now());
    target.send(i % people, text).catch((e) => console.error(e));
  }
  await Promise.race([finished, new Promise((r) => setTimeout(r, 60_000))]);
  if (lat.length < n) console.error(`${label}: only ${lat.length}/${n} replies`);
  return lat.sort((a, b) => a - b);
}

// Saturation: WINDOW loops in flight; loops per second.
export async function saturate(target: Target, n: number, label: string, window: number, people: number): Promise<number> {
  let next = 0;
  let replies = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const pending = new Set<string>();
  const fire = () => {
    if (next >= n) return;
    const text = `${label}-${next}`;
    const person = next % people;
    next++;
    pending.add(text);
    target.send(person, text).catch((e) => console.error(e));
  };
  target.onReply = (text) => {
    if (!pending.delete(text)) return;
    replies++;
    if (replies === n) done();
    else fire();
  };
  const start = performance.now();
  for (let i = 0; i < Math.min(window, n); i++) fire();
  await Promise.race([finished, new Promise((r) => setTimeout(r, 120_000))]);
  const secs = (performance.now() - start) / 1000;
  if (replies < n) console.error(`${label}: only ${replies}/${n} replies`);
  return replies / secs;
}

// The baseline: the same parts, no framework. Run in its own process (argv 'baseline-server').
// POST /send: insert, then POST to BASELINE_BOT; POST /reply: insert, then push to the person's socket.
export async function baselineServer(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const pg = new PgPool({ connectionString: process.env.BASELINE_DB, max: 20 });
  await pg.query('CREATE TABLE IF NOT EXISTS bench_messages (id bigserial PRIMARY KEY, person int NOT NULL, body jsonb NOT NULL)');
  const app = Fastify();
  const sockets = new Map<number, WebSocket>();
  const botUrl = process.env.BASELINE_BOT!;
  app.post('/send', async (req) => {
    const { person, text } = req.body as { person: number; text: string };
    await pg.query('INSERT INTO bench_messages (person, body) VALUES ($1, $2)', [person, JSON.stringify({ text })]);
    void post(botUrl, { person, text }).catch((e) => console.error(e));
    return { ok: true };
  });
  app.post('/reply', async (req) => {
    const { person, text } = req.body as { person: number; text: string };
    await pg.query('INSERT INTO bench_messages (person, body) VALUES ($1, $2)', [person, JSON.stringify({ text, reply: true })]);
    sockets.get(person)?.send(JSON.stringify({ type: 'message', message: { text } }));
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const wss = new WebSocketServer({ server: app.server, path: '/ws', perMessageDeflate: { threshold: 1024 } });
  wss.on('connection', (ws, req) => sockets.set(Number(new URL(req.url ?? '', 'http://x').searchParams.get('person')), ws));
  console.log(`baseline listening ${(app.server.address() as AddressInfo).port}`);
}

