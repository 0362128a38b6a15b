import { ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

// A private redis-server a test may flush or stop (never the shared one), answering PING before it is used;
// `port` brings one back where a stopped one was.
export async function startOwnRedis(port?: number): Promise<{ port: number; redis: ChildProcess }> {
  port ??= await freePort();
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor('own redis', async () => {
    const c = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } finally {
      c.disconnect();
    }
  });
  return { port, redis };
}
