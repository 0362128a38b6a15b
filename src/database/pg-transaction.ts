import type { Pool, PoolClient } from 'pg';
import { markDatabaseError } from './pg-errors';
import { asTransactionBody } from './pool-guard';

// BEGIN … COMMIT on one pooled connection, ROLLBACK if `work` throws. A checked-out client has no pool listener:
// a connection that drops while it is held (between statements too) emits 'error' on it, which unheard would
// crash the process, so it is heard here and the connection discarded (as is one that couldn't roll back).
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await asTransactionBody(() => work(client));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(onError);
    throw markDatabaseError(err);
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
