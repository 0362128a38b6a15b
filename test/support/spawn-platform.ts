import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TEST_REDIS_URL } from './services';
import { createTestDatabase, TestDatabase } from './test-database';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const MAIN = path.join(__dirname, '..', '..', 'dist', 'src', 'main.js');

export interface SpawnedPlatform {
  url: string;
  child: ChildProcess;
  logs: string[];
  env: Record<string, string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

// Runs the compiled entrypoint as its own process, exactly as `npm start` does, and waits until it is up.
// (Nest 12 is ESM-only, which jest's CommonJS runtime cannot load on Node 20; the real process can.)
export async function spawnPlatform(
  role: 'all' | 'api' | 'worker',
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<SpawnedPlatform> {
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    WORKER_HTTP_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Tests make one person send far faster than a human could; the limit's own test sets it low.
    PERSON_SEND_RATE_PER_SECOND: '100000',
    PERSON_SEND_BURST: '100000',
    ...env,
  };
  const child = spawn(process.execPath, ['--no-node-snapshot', MAIN, role], {
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`platform did not start in ${timeoutMs} ms:\n${logs.join('')}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      logs.push(text);
      const m = /"url":"(https?:\/\/[^"]+)"/.exec(text);
      if (m && text.includes('listening on')) {
        clearTimeout(timer);
        resolve(m[1]);
      } else if (role === 'worker' && text.includes('worker started')) {
        clearTimeout(timer);
        resolve(m ? m[1] : '');
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`platform exited with ${code} before it was up:\n${logs.join('')}`));
    });
  });
  return {
    url,
    child,
    logs,
    env: fullEnv,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export interface TestPlatform extends SpawnedPlatform {
  db: TestDatabase;
  dataDir: string;
  // Start another process (e.g. a second api, or a worker) on the same database and Redis prefix.
  spawnSibling(role: 'all' | 'api' | 'worker', env?: Record<string, string>): Promise<SpawnedPlatform>;
  close(): Promise<void>;
}

export interface TestPlatformOptions {
  role?: 'all' | 'api' | 'worker';
  env?: Record<string, string>;
  redis?: boolean;
}

// A platform process against the real Postgres (a database of its own) and Redis (a key prefix of its own).
export async function startTestPlatform(opts: TestPlatformOptions = {}): Promise<TestPlatform> {
  const label = (expect.getState().testPath ?? 'test').split('/').pop() ?? 'test';
  const db = await createTestDatabase(label);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-test-'));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    SECRETS_KEY: randomBytes(32).toString('hex'),
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    ALLOW_INSECURE_WEBHOOKS: 'true',
    OUTBOUND_ALLOWLIST: '127.0.0.0/8,::1/128',
    ...(opts.redis === false ? {} : { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `t${randomBytes(4).toString('hex')}` }),
    ...opts.env,
  };
  const siblings: SpawnedPlatform[] = [];
  let main: SpawnedPlatform;
  try {
    main = await spawnPlatform(opts.role ?? 'all', env);
  } catch (err) {
    await db.drop();
    throw err;
  }
  return {
    ...main,
    db,
    dataDir,
    async spawnSibling(role, extra = {}) {
      const s = await spawnPlatform(role, { ...env, MIGRATIONS_RUN: 'false', ...extra });
      siblings.push(s);
      return s;
    },
    async close() {
      await Promise.all([main.stop(), ...siblings.map((s) => s.stop())]);
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
