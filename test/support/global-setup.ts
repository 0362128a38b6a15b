import Redis from 'ioredis';
import { Client } from 'pg';
import { PG_ADMIN_URL, TEST_REDIS_URL } from './services';

// Fail the run at once, with what to do, when the real services are not there.
export default async function globalSetup(): Promise<void> {
  const pg = new Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await pg.connect();
    await pg.query('SELECT 1');
  } catch (err) {
    throw new Error(`PostgreSQL is not answering at ${PG_ADMIN_URL}: ${(err as Error).message}. Run .ci/run or start it.`);
  } finally {
    await pg.end().catch(() => undefined);
  }
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis is not answering at ${TEST_REDIS_URL}: ${(err as Error).message}. Run .ci/run or start it.`);
  } finally {
    redis.disconnect();
  }
}
