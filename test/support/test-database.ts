import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { PG_ADMIN_URL } from './services';

export interface TestDatabase {
  name: string;
  url: string;
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// Each test file gets a database of its own, so runs never collide.
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `sb_${label.replace(/[^a-z0-9]/gi, '').toLowerCase().slice(0, 20)}_${randomBytes(5).toString('hex')}`;
  await withClient(PG_ADMIN_URL, (c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  return {
    name,
    url,
    query: (sql, params) => withClient(url, async (c) => (await c.query(sql, params as unknown[])).rows),
    drop: () => withClient(PG_ADMIN_URL, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
