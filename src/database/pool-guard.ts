import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';

// Tests only (NODE_ENV=test): a statement sent to the pool from inside an open transaction waits for a second
// connection while holding one, and a burst as large as the pool then waits on itself until the connect timeout
// (CI met it as 503s on the Send API). The guard makes that mistake fail at once wherever a test reaches it,
// instead of only under the right burst.
const transactions = new AsyncLocalStorage<{ open: boolean }>();
let enabled = false;

export class PoolInTransactionError extends Error {
  constructor() {
    super('A pool connection was asked for inside an open transaction: use the transaction\'s own EntityManager or query');
  }
}

// Runs a transaction's body marked as such; the mark ends with the body, so work it started and left running
// (a publish after commit) may use the pool.
export function asTransactionBody<T>(work: () => Promise<T>): Promise<T> {
  if (!enabled) return work();
  const mark = { open: true };
  return transactions.run(mark, async () => {
    try {
      return await work();
    } finally {
      mark.open = false;
    }
  });
}

type ConnectCallback = (err: Error | undefined, client?: PoolClient, done?: (release?: unknown) => void) => void;

// Makes the pool refuse connections asked for inside a transaction's body, and marks the bodies of TypeORM's
// transactions (SqlService.transaction marks its own through inTransaction).
export function enablePoolGuard(pool: Pool, ds: DataSource): void {
  enabled = true;
  const connect = pool.connect.bind(pool) as (cb?: ConnectCallback) => unknown;
  (pool as unknown as { connect: unknown }).connect = (cb?: ConnectCallback) => {
    if (transactions.getStore()?.open) {
      const err = new PoolInTransactionError();
      if (typeof cb === 'function') return void cb(err);
      return Promise.reject(err);
    }
    return connect(cb);
  };
  const manager = ds.manager;
  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  // (isolation?, body): DataSource.transaction passes both, the second undefined when there is no isolation.
  (manager as unknown as { transaction: unknown }).transaction = (first: unknown, second?: unknown) => {
    const body = (typeof first === 'function' ? first : second) as (m: unknown) => Promise<unknown>;
    const marked = (m: unknown) => asTransactionBody(() => body(m));
    return typeof first === 'function' ? transaction(marked) : transaction(first, marked);
  };
}
