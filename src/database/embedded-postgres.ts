import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedPostgres {
  url: string;
  // Resolves once no client is connected: the server takes one connection at a time and refuses the next
  // ("Too many connections") until it has seen the last one close.
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const IDLE_WAIT_MS = 5000;

// PGlite served over the Postgres wire protocol, so the same pg driver and TypeORM code run on it.
// PGlite is a single session: the pool that talks to it must hold one connection.
export async function startEmbeddedPostgres(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  // PGlite has only the extensions it is given here: pg_trgm for the Page Inbox's name search (the PersonNameSearch
  // migration creates it, and its index).
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const dir = path.join(dataDir, 'pg');
  fs.mkdirSync(dir, { recursive: true });
  const db = await PGlite.create({ dataDir: dir, extensions: { pg_trgm } });
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1' });
  await server.start();
  const address = (server as unknown as { server: { address(): { port: number } } }).server.address();
  logger.info({ dataDir: dir, port: address.port }, 'embedded PostgreSQL (PGlite) started');
  return {
    url: `postgres://postgres@127.0.0.1:${address.port}/postgres`,
    async idle() {
      const deadline = Date.now() + IDLE_WAIT_MS;
      while (server.getStats().activeConnections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    },
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
