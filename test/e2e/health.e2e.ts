import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Agent, request } from 'undici';
import * as net from 'node:net';
import { httpClient } from '../support/http-client';
import { waitFor } from '../support/wait-for';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { freePort } from '../support/free-port';

describe('health, metrics, docs', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => t?.close());

  it('answers liveness and readiness with Postgres and Redis up', async () => {
    const api = httpClient(t.url);
    expect((await api.get('/health')).body).toEqual({ status: 'ok' });
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
  });

  it('exposes Prometheus metrics with an HTTP latency histogram', async () => {
    const api = httpClient(t.url);
    await api.get('/health');
    const res = await api.get('/metrics');
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toContain('text/plain');
    expect(res.text).toMatch(/switchboard_http_request_duration_seconds_bucket\{[^}]*route="\/health"/);
    expect(res.text).toContain('switchboard_process_cpu_seconds_total');
  });

  it('asks for METRICS_TOKEN on /metrics when one is set, compared as a bearer token', async () => {
    const token = 'm'.repeat(32);
    const own = await startTestPlatform({ env: { METRICS_TOKEN: token } });
    try {
      const api = httpClient(own.url);
      expect((await api.get('/metrics')).status).toBe(401);
      expect((await api.get('/metrics', { token: 'n'.repeat(32) })).status).toBe(401);
      const scrape = await api.get('/metrics', { token });
      expect(scrape.status).toBe(200);
      expect(scrape.text).toContain('switchboard_process_cpu_seconds_total');
      // Liveness and readiness stay open: load balancers probe them without credentials.
      expect((await api.get('/health/ready')).status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('a worker, which has no API, answers /health and /metrics (its own counters) on a port of its own', async () => {
    const worker = await t.spawnSibling('worker');
    try {
      expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const w = httpClient(worker.url);
      expect((await w.get('/health')).body).toEqual({ status: 'ok' });
      const scrape = await w.get('/metrics');
      expect(scrape.status).toBe(200);
      expect(String(scrape.headers['content-type'])).toContain('text/plain');
      expect(scrape.text).toContain('# TYPE switchboard_webhook_attempts_total counter');
      expect(scrape.text).toContain('# TYPE switchboard_webhook_pruned_total counter');
      expect(scrape.text).not.toContain('switchboard_http_request_duration_seconds_bucket');
      expect((await w.get('/threads')).status).toBe(404);
      expect((await w.post('/metrics', {})).status).toBe(405);
    } finally {
      await worker.stop();
    }
  });

  it('serves Swagger UI at /docs and its document', async () => {
    const api = httpClient(t.url);
    const ui = await api.get('/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const doc = await api.get('/docs/openapi.json');
    expect(doc.body.paths['/auth/signup']).toBeDefined();
    expect(doc.body.components.securitySchemes.admin).toBeDefined();
  });
});

describe('TLS', () => {
  it('serves HTTPS with HSTS when TLS_CERT_FILE and TLS_KEY_FILE are set', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const t = await startTestPlatform({ env: { TLS_CERT_FILE: cert, TLS_KEY_FILE: key }, redis: false });
    const dispatcher = new Agent({ connect: { ca: fs.readFileSync(cert), servername: 'localhost' } });
    try {
      expect(t.url.startsWith('https://')).toBe(true);
      const res = await request(`${t.url}/health`, { dispatcher });
      expect(res.statusCode).toBe(200);
      expect(res.headers['strict-transport-security']).toContain('max-age=');
      expect(await res.body.json()).toEqual({ status: 'ok' });
    } finally {
      await dispatcher.close();
      await t.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readiness when a dependency is down', () => {
  it('answers 503 while its Redis is down and 200 again once it is back, without a restart', async () => {
    const port = await freePort();
    const startRedis = () => spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    let redis = startRedis();
    const t = await (async () => {
      await waitFor('own redis', () => new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
        s.on('error', () => resolve(false));
      }));
      return startTestPlatform({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    })();
    try {
      const api = httpClient(t.url);
      expect((await api.get('/health/ready')).status).toBe(200);
      redis.kill('SIGKILL');
      const down = await waitFor('503', async () => {
        const r = await api.get('/health/ready');
        return r.status === 503 ? r : null;
      });
      expect(down.body.checks.postgres).toBe('up');
      // Only up or down: the client's error (an address, a port) tells an outsider the deployment's layout.
      expect(down.body.checks.redis).toBe('down');
      redis = startRedis();
      await waitFor('ready again', async () => (await api.get('/health/ready')).status === 200);
    } finally {
      redis.kill('SIGKILL');
      await t.close();
    }
  });
});
