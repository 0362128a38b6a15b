import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { inTransaction } from '../../src/database/pg-transaction';
import { enablePoolGuard, PoolInTransactionError } from '../../src/database/pool-guard';
import { PG_ADMIN_URL } from '../support/services';

// The test-only guard over a real Postgres: the pool refuses a connection asked for inside a transaction's body,
// which would otherwise wait for one the burst holds.
describe('pool guard', () => {
  let ds: DataSource;
  let pool: Pool;

  beforeAll(async () => {
    ds = await new DataSource({ type: 'postgres', url: PG_ADMIN_URL, extra: { max: 2 } }).initialize();
    pool = (ds.driver as PostgresDriver).master as Pool;
    enablePoolGuard(pool, ds);
  });
  afterAll(() => ds.destroy());

  it("refuses the pool inside TypeORM's transaction, and serves the transaction's own connection", async () => {
    const seen: unknown[] = [];
    await ds.transaction(async (m) => {
      seen.push((await m.query('SELECT 1 AS n'))[0].n);
      seen.push(await ds.query('SELECT 2 AS n').catch((err: unknown) => err));
      seen.push(await pool.query('SELECT 3 AS n').catch((err: unknown) => err));
    });
    expect(seen[0]).toBe(1);
    expect(seen[1]).toBeInstanceOf(PoolInTransactionError);
    expect(seen[2]).toBeInstanceOf(PoolInTransactionError);
  });

  it("refuses the pool inside inTransaction's body, with either style of connect", async () => {
    const seen = await inTransaction(pool, async (c) => {
      const own = (await c.query('SELECT 1 AS n')).rows[0].n;
      const promised = await pool.connect().catch((err: unknown) => err);
      const called = await new Promise((resolve) => pool.connect((err, client, done) => (client && done?.(), resolve(err))));
      return [own, promised, called];
    });
    expect(seen[0]).toBe(1);
    expect(seen[1]).toBeInstanceOf(PoolInTransactionError);
    expect(seen[2]).toBeInstanceOf(PoolInTransactionError);
  });

  it('lets the pool serve what a body started and left running, and everything outside transactions', async () => {
    let later!: Promise<unknown>;
    await ds.transaction(async () => {
      later = new Promise((resolve) => setTimeout(resolve, 20)).then(() => pool.query('SELECT 4 AS n'));
    });
    expect(((await later) as { rows: { n: number }[] }).rows[0].n).toBe(4);
    expect((await ds.query('SELECT 5 AS n'))[0].n).toBe(5);
    // Both connections came back: the refusals took none.
    expect(pool.totalCount - pool.idleCount).toBe(0);
  });
});
