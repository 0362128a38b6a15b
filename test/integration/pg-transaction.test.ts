import { Pool } from 'pg';
import { withDeadline } from '../../src/common/async/deadline';
import { inTransaction } from '../../src/database/pg-transaction';
import { PG_ADMIN_URL } from '../support/services';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';

// The transaction helper behind SqlService.transaction, over a real Postgres reached through a proxy that can drop
// the connection while a transaction holds it.
describe('inTransaction', () => {
  let proxy: TcpProxy;
  let pool: Pool;

  beforeEach(async () => {
    const target = new URL(PG_ADMIN_URL);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const url = new URL(PG_ADMIN_URL);
    url.host = proxy.address;
    pool = new Pool({ connectionString: url.toString(), max: 2 });
    // The pool's own listener, for idle clients: a test that leaves it unset would crash on their drop instead.
    pool.on('error', () => undefined);
  });

  afterEach(async () => {
    // A client wedged by an unheard error is never given back, and pool.end() would wait for it.
    await withDeadline(pool.end(), 5000, () => new Error('pool did not end')).catch(() => undefined);
    await proxy.close();
  });

  it('commits what the work did and gives the connection back', async () => {
    const n = await inTransaction(pool, async (c) => (await c.query('SELECT 41 + 1 AS n')).rows[0].n);
    expect(n).toBe(42);
    expect([pool.totalCount, pool.idleCount]).toEqual([1, 1]);
  });

  it('survives the connection dropping between statements: the call fails, the process lives, the connection is discarded', async () => {
    const failed = inTransaction(pool, async (c) => {
      await c.query('SELECT 1');
      // Dropped while held and between statements: pg emits 'error' on the client (then 'end'), and the pool
      // no longer listens to a client it lent out.
      const ended = new Promise((resolve) => c.once('end', resolve));
      proxy.cut();
      // Unheard, the 'error' is thrown from pg's own handler, which then never emits 'end'.
      await withDeadline(ended, 5000, () => new Error("the client never ended: its 'error' went unheard"));
      await c.query('SELECT 2');
    });
    await expect(failed).rejects.toThrow();
    expect(pool.totalCount).toBe(0);

    proxy.restore();
    expect(await inTransaction(pool, async (c) => (await c.query('SELECT 1 AS ok')).rows[0].ok)).toBe(1);
  });
});
