import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { httpClient } from '../support/http-client';
import { waitFor } from '../support/wait-for';
import { signupPerson } from '../factories/registry.factory';
import { freePort } from '../support/free-port';
import { spawnPlatform, SpawnedPlatform, startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { startTcpProxy } from '../support/tcp-proxy';
import { conversation, conversationWithPsid, personSays } from '../factories/messaging.factory';
import { startBotReceiver } from '../support/bot-receiver';

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

// A worker sibling of `t` whose Postgres goes through a proxy the test can cut (deliveries then go only through
// it when `t` runs the api role alone).
async function workerBehindPostgresProxy(t: TestPlatform, env: Record<string, string> = {}) {
  const db = new URL(t.db.url);
  const proxy = await startTcpProxy(db.hostname, Number(db.port || 5432));
  const viaProxy = new URL(t.db.url);
  viaProxy.host = proxy.address;
  try {
    const worker = await t.spawnSibling('worker', { DATABASE_URL: viaProxy.toString(), DATABASE_QUERY_TIMEOUT_MS: '1000', ...env });
    return { proxy, worker };
  } catch (err) {
    await proxy.close();
    throw err;
  }
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
      const c = await conversation(api);

      pg.stop();
      const down = await waitFor('503 while Postgres is down', async () => {
        const r = await api.get('/health/ready');
        return r.status === 503 ? r : null;
      });
      expect(down.body.checks.postgres).toMatch(/^down/);
      // Connections refused (a raw ECONNREFUSED, marked as the pool's): 503, through TypeORM and the prepared path.
      const listed = await api.get('/threads', { token: c.person.token });
      const sent = await api.post(`/threads/${c.thread.id}/messages`, { text: 'while down', client_message_id: 'down-1' }, { token: c.person.token });
      for (const res of [listed, sent]) {
        expect([res.status, res.body.code, res.headers['retry-after']]).toEqual([503, 'DATABASE.UNAVAILABLE', '1']);
      }
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

  it('answers 503 with Retry-After, not a hang or a 500, while Postgres stops answering, and takes the retry once it does', async () => {
    const t = await startTestPlatform();
    const db = new URL(t.db.url);
    const proxy = await startTcpProxy(db.hostname, Number(db.port || 5432));
    try {
      const api = httpClient(t.url);
      const c = await conversationWithPsid(api, t.db);
      await t.db.query('UPDATE threads SET person_last_at = $2 WHERE id = $1', [c.thread.id, Date.now()]);
      const viaProxy = new URL(t.db.url);
      viaProxy.host = proxy.address;
      // Verdicts on tokens are cached a minute here, so which socket below needs Postgres for its token is known.
      const sibling = await t.spawnSibling('api', { DATABASE_URL: viaProxy.toString(), DATABASE_QUERY_TIMEOUT_MS: '1000', AUTH_CACHE_TTL_MS: '60000' });
      const s = httpClient(sibling.url);
      expect((await s.get('/threads', { token: c.person.token })).status).toBe(200);
      const unseen = await api.post('/auth/login', { username: c.person.username, password: 'a-long-password' });

      // Connections stay open and nothing comes back: only a deadline notices.
      proxy.stall();
      const body = { text: 'while Postgres hangs', client_message_id: 'pg-hangs' };
      const refused = await s.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
      expect([refused.status, refused.body.code, refused.headers['retry-after']]).toEqual([503, 'DATABASE.UNAVAILABLE', '1']);
      const graph = await s.post(`/v25.0/me/messages?access_token=${c.pageToken}`, { recipient: { id: c.psid }, message: { text: 'reply' } });
      expect([graph.status, graph.body.error?.code]).toEqual([503, 2]);
      expect((await s.get('/threads', { token: c.person.token })).status).toBe(503);
      // A socket whose token the sibling has not seen is refused before the upgrade (the token can't be checked);
      // one whose token's verdict is cached is upgraded, then closed with 1013 (try again later) once its first
      // read fails: never left hanging, never 1011.
      const socket = (token: string) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`${sibling.url.replace(/^http/, 'ws')}/ws?access_token=${token}`);
          ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode} ${res.headers['retry-after']}`));
          ws.once('close', (code) => resolve(`closed ${code}`));
          ws.once('error', () => undefined);
        });
      expect(await socket(unseen.body.access_token)).toBe('refused 503 1');
      expect(await socket(c.person.token)).toBe('closed 1013');

      // The person's send reached Postgres before it hung and may commit once it answers: the retry with the same
      // client_message_id is answered with that message, never a second one.
      proxy.flow();
      const taken = await waitFor('Postgres answering again', async () => {
        const r = await s.post(`/threads/${c.thread.id}/messages`, body, { token: c.person.token });
        return r.status === 201 ? r : undefined;
      });
      expect(taken.body.seq).toBe(1);
      const rows = await t.db.query('SELECT count(*)::int AS n FROM messages WHERE thread_id = $1', [c.thread.id]);
      expect(rows[0].n).toBe(1);
      expect(sibling.child.exitCode).toBeNull();
    } finally {
      await t.close();
      await proxy.close();
    }
  }, 90_000);

  it('keeps a worker running when its Postgres connections drop mid-work, and it delivers what came meanwhile once they are back', async () => {
    // Deliveries go only through the sibling worker, which reaches Postgres through the proxy.
    const t = await startTestPlatform({ role: 'api' });
    const bot = await startBotReceiver('verify-me');
    const { proxy, worker } = await workerBehindPostgresProxy(t);
    try {
      const api = httpClient(t.url);
      const c = await conversation(api, bot);
      bot.secrets.push(c.app.secret);
      const got = (text: string) => bot.received.some((r) => r.body.toString().includes(`"text":"${text}"`));
      await personSays(api, c.person, c.thread.id, 'before the drop');
      await waitFor('the first delivery', () => got('before the drop'));
      // Settled too, so the cut below meets claims, not a settle (the next tests cut into a settle).
      await waitFor('the first delivery settled', async () => {
        const [row] = await t.db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'");
        return row.n === 1;
      });

      // Every connection is reset, whatever it was doing. When a claim's transaction held one, the worker used to
      // crash on an unheard 'error' (here 1 run in 4 without the fix; test/integration/pg-transaction.test.ts
      // reproduces it every time).
      proxy.cut();
      await personSays(api, c.person, c.thread.id, 'while Postgres is cut off');
      await new Promise((r) => setTimeout(r, 3000));
      expect(got('while Postgres is cut off')).toBe(false);
      proxy.restore();

      await waitFor('the delivery held back', () => got('while Postgres is cut off'), { timeoutMs: 20_000 });
      await personSays(api, c.person, c.thread.id, 'after');
      await waitFor('a delivery after', () => got('after'), { timeoutMs: 20_000 });
      expect(worker.child.exitCode).toBeNull();
    } finally {
      await t.close();
      await bot.close();
      await proxy.close();
    }
  }, 90_000);

  // A success and a failure have different settles (the retry is scheduled by the failure's).
  it.each([
    { answer: 200, posts: 1 },
    { answer: 503, posts: 2 },
  ])('settles a batch once Postgres is back when the cut comes between its POST (answered $answer) and its settle', async ({ answer, posts }) => {
    const t = await startTestPlatform({ role: 'api' });
    const bot = await startBotReceiver('verify-me');
    const { proxy } = await workerBehindPostgresProxy(t, { WEBHOOK_RETRY_SCHEDULE: '0,1' });
    try {
      const api = httpClient(t.url);
      const c = await conversation(api, bot);
      bot.secrets.push(c.app.secret);
      const times = (text: string) => bot.received.filter((r) => r.body.toString().includes(`"text":"${text}"`)).length;
      // The bot has the batch; the worker loses Postgres before it hears the answer, and gets it back 1.5 s later.
      let cutDone = false;
      bot.respond = (req) => {
        if (cutDone || !req.body.toString().includes('"text":"cut before the settle"')) return 200;
        cutDone = true;
        proxy.cut();
        setTimeout(() => proxy.restore(), 1500);
        return answer;
      };
      await personSays(api, c.person, c.thread.id, 'cut before the settle');
      // Settled well before its lease (WEBHOOK_TIMEOUT_MS + 30 s) would lapse and return it for another send.
      await waitFor(
        'the delivery settled',
        async () => {
          const [row] = await t.db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'");
          return row.n === 1;
        },
        { timeoutMs: 10_000 },
      );
      // The thread is free: its next message goes at once.
      await personSays(api, c.person, c.thread.id, 'next on the thread');
      await waitFor('the next delivery', () => times('next on the thread') === 1, { timeoutMs: 10_000 });
      // Its attempt row is written by its settle, after the bot has it: wait for that too.
      await waitFor(
        'the next delivery settled',
        async () => (await t.db.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'"))[0].n === 2,
        { timeoutMs: 10_000 },
      );
      expect(times('cut before the settle')).toBe(posts);
      const attempts = await t.db.query('SELECT status_code FROM webhook_attempts ORDER BY started_at');
      expect(attempts.map((a: { status_code: number }) => a.status_code)).toEqual([...(answer === 200 ? [] : [answer]), 200, 200]);
    } finally {
      await t.close();
      await bot.close();
      await proxy.close();
    }
  }, 90_000);
});

describe('A hosted script whose run Postgres cuts short', () => {
  it('records and settles the run once Postgres is back, and does not run it again', async () => {
    const t = await startTestPlatform({ role: 'api' });
    const { proxy } = await workerBehindPostgresProxy(t);
    try {
      const api = httpClient(t.url);
      const c = await conversation(api);
      // Busy for 300 ms on the marked message, so the test can cut Postgres while it runs.
      const source = `export default {
        onMessage(event) {
          if (event.message.text !== 'cut during the run') return;
          const end = Date.now() + 300;
          while (Date.now() < end) {}
        },
      };`;
      const up = await api.post(`/pages/${c.page.id}/scripts`, { source, limits: { cpuMs: 500, wallMs: 5000 } }, { token: c.owner.token });
      expect(up.status).toBe(201);
      expect((await api.post(`/pages/${c.page.id}/scripts/${up.body.version}/activate`, {}, { token: c.owner.token })).status).toBe(200);
      const scriptDelivery = async (text: string) => {
        const [row] = await t.db.query(
          `SELECT d.status, d.attempts, (SELECT count(*)::int FROM webhook_attempts a WHERE a.delivery_id = d.id) AS runs
             FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
            WHERE d.target = 'script' AND e.messaging->'message'->>'text' = $1`,
          [text],
        );
        return row as { status: string; attempts: number; runs: number } | undefined;
      };

      await personSays(api, c.person, c.thread.id, 'cut during the run');
      await waitFor('the run to start', async () => (await scriptDelivery('cut during the run'))?.status === 'in_flight', { intervalMs: 5 });
      proxy.cut();
      setTimeout(() => proxy.restore(), 1500);
      // Settled well before its lease (60 s) would lapse and run it again.
      await waitFor('the run settled', async () => (await scriptDelivery('cut during the run'))?.status === 'delivered', { timeoutMs: 10_000 });
      expect(await scriptDelivery('cut during the run')).toEqual({ status: 'delivered', attempts: 1, runs: 1 });
      // The thread is free: its next message runs at once.
      await personSays(api, c.person, c.thread.id, 'next on the thread');
      await waitFor('the next run', async () => (await scriptDelivery('next on the thread'))?.status === 'delivered', { timeoutMs: 10_000 });
    } finally {
      await t.close();
      await proxy.close();
    }
  }, 90_000);
});
