// QueuePort.trigger on both backends (real Redis, and the embedded stand-in), run on the compiled build in a
// child process (Jest cannot load Nest): triggers while a job waits merge into one run; a trigger while the job
// runs makes it run once more after it ends (a BullMQ add with a fixed id is ignored then, losing the wake-up);
// a later trigger is a new run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { TEST_REDIS_URL } from '../support/services';

const DIST = path.join(__dirname, '..', '..', 'dist', 'src', 'infra', 'queue');

// Plain JS over the compiled modules; prints one JSON line with what it saw.
const SCENARIO = `
const { Queue } = require('bullmq');
const Redis = require('ioredis').default;
const { MemoryQueue } = require(${JSON.stringify(path.join(DIST, 'memory-queue.js'))});
const { RedisQueue } = require(${JSON.stringify(path.join(DIST, 'redis-queue.js'))});
const NAME = 'webhook-delivery';
const until = async (probe) => { for (let i = 0; i < 2000; i++) { if (await probe()) return; await new Promise((r) => setTimeout(r, 10)); } throw new Error('stuck'); };
(async () => {
  const kind = process.argv[1], prefix = process.argv[2] + ':bull', url = new URL(process.argv[3]);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  let bull, redis, queue;
  if (kind === 'redis') {
    bull = new Queue(NAME, { connection, prefix });
    redis = new Redis(connection);
    queue = new RedisQueue(new Map([[NAME, bull]]), connection, prefix, redis);
  } else queue = new MemoryQueue();
  const runs = {};
  let release, started;
  const gate = new Promise((r) => (release = r));
  const running = new Promise((r) => (started = r));
  // Merged: five triggers before any worker runs.
  for (let i = 0; i < 5; i++) await queue.trigger(NAME, 'app-1', { appId: '1' });
  queue.process(NAME, async ({ appId }) => {
    runs[appId] = (runs[appId] || 0) + 1;
    if (appId === '2' && runs[appId] === 1) { started(); await gate; }
  }, { concurrency: 4 });
  await until(async () => runs['1'] === 1 && (await queue.depth(NAME)) === 0);
  const merged = runs['1'];
  await queue.trigger(NAME, 'app-1', { appId: '1' });
  await until(() => runs['1'] === 2);
  // While running: three triggers, one more run.
  await queue.trigger(NAME, 'app-2', { appId: '2' });
  await running;
  for (let i = 0; i < 3; i++) await queue.trigger(NAME, 'app-2', { appId: '2' });
  release();
  await until(async () => runs['2'] === 2 && (await queue.depth(NAME)) === 0);
  const rerun = runs['2'];
  await queue.trigger(NAME, 'app-2', { appId: '2' });
  await until(() => runs['2'] === 3);
  await queue.close();
  if (bull) {
    await bull.obliterate({ force: true });
    await bull.close();
    const keys = await redis.keys(prefix + ':*');
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  console.log(JSON.stringify({ merged, rerun, later: runs['2'], other: runs['1'] }));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
`;

function run(kind: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', '-e', SCENARIO, kind, `qt${randomBytes(4).toString('hex')}`, TEST_REDIS_URL], {
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (out += b));
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`scenario ${kind} exited ${code}:\n${out}`));
    });
  });
}

describe.each(['redis', 'memory'])('QueuePort.trigger (%s)', (kind) => {
  it('merges waiting triggers, re-runs once after a trigger during a run, and runs again on a later trigger', async () => {
    expect(await run(kind)).toEqual({ merged: 1, rerun: 2, later: 3, other: 2 });
  });
});
