import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { httpClient } from '../support/http-client';
import { spawnPlatform, SpawnedPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { signupPerson } from '../factories/registry.factory';
import { freePort } from '../support/free-port';

const BIN = '/usr/lib/postgresql/15/bin';

// A private cluster in a temp dir on a random port: the shared one other engineers and CI use is never touched.
// initdb refuses root, so the cluster runs as the postgres user when we are root.
function privateCluster(port: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-pg-'));
  const data = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'postgres', dir]);
  const run = (bin: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, bin), ...args], { stdio: 'pipe' })
      : execFileSync(path.join(BIN, bin), args, { stdio: 'pipe' });
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', ...args]);
  const start = () => ctl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop: () => ctl('-m', 'fast', 'stop'),
    destroy() {
      try {
        ctl('-m', 'immediate', 'stop');
      } catch {
        // already stopped
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('Postgres restarted under the api', () => {
  it('answers 503 from /health/ready while Postgres is down and recovers without a restart', async () => {
    const pg = privateCluster(await freePort());
    let platform: SpawnedPlatform | undefined;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-test-'));
    try {
      pg.start();
      platform = await spawnPlatform('all', {
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        DATABASE_URL: pg.url,
        DATABASE_POOL_SIZE: '3',
        SECRETS_KEY: randomBytes(32).toString('hex'),
      });
      const api = httpClient(platform.url);
      expect((await api.get('/health/ready')).status).toBe(200);
      await signupPerson(api);

      pg.stop();
      const down = await waitFor('503 while Postgres is down', async () => {
        const r = await api.get('/health/ready');
        return r.status === 503 ? r : null;
      });
      expect(down.body.checks.postgres).toMatch(/^down/);
      // Liveness stays up: nothing restarts the process.
      expect((await api.get('/health')).status).toBe(200);

      pg.start();
      await waitFor('ready again', async () => (await api.get('/health/ready')).status === 200, { timeoutMs: 30_000 });
      // Real work over the pool again, in the same process.
      await waitFor('writes work again', async () => Boolean(await signupPerson(api).catch(() => null)));
      expect(platform.child.exitCode).toBeNull();
    } finally {
      await platform?.stop();
      pg.destroy();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
