import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MetricsService } from '../health/metrics.service';

export interface WorkerHttp {
  url?: string;
  close(): Promise<void>;
}

// A worker has no API, but its counters (webhook attempts and latency, pruning) live in its own memory: it answers
// Prometheus (/metrics) and its orchestrator's liveness probe (/health) on a port of its own.
export async function serveWorkerHttp(metrics: MetricsService, port: number, host: string, logger: Logger): Promise<WorkerHttp> {
  if (port < 0) return { close: async () => undefined };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method not allowed' });
    if (path === '/health') return json(200, { status: 'ok' });
    if (path !== '/metrics') return json(404, { error: 'not found: a worker serves /health and /metrics' });
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => json(500, { error: err.message }),
    );
  });
  const listening = await new Promise<boolean>((resolve, reject) => {
    server.once('listening', () => resolve(true));
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Several workers on one host: the second one still works, without the endpoint, and says what to set.
      if (err.code === 'EADDRINUSE') {
        logger.warn(`WORKER_HTTP_PORT ${port} is taken: this worker serves no /metrics (give each worker its own port; 0 picks a free one)`);
        resolve(false);
      } else reject(err);
    });
    server.listen(port, host);
  });
  if (!listening) return { close: async () => undefined };
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
