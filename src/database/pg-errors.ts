import type { Pool, PoolClient } from 'pg';

// Postgres SQLSTATE codes we react to.
export function pgCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export const isUniqueViolation = (err: unknown) => pgCode(err) === '23505';
export const isForeignKeyViolation = (err: unknown) => pgCode(err) === '23503';

// node-postgres's own messages when the server can't be reached or stops answering (pg 8: no codes for these).
const UNREACHABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'Client has encountered a connection error and is not queryable',
];
const UNREACHABLE_SYSCALL_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH']);
// SQLSTATE: too many connections, the server shutting down or starting up.
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03']);

// Errors known to come from the database client. A socket error code (ECONNRESET, …) says nothing of whose socket
// it was: only these, and TypeORM's wrapped driver errors, count as the database's.
const fromDatabase = new WeakSet<object>();

export function markDatabaseError<T>(err: T): T {
  if (err && typeof err === 'object') fromDatabase.add(err);
  return err;
}

// Marks what the pool's connections fail with: a connection it cannot open (TypeORM and pool.query both take
// theirs through connect), in either of pg-pool's calling styles. Errors of statements on an open connection are
// marked where they are run (SqlService, inTransaction); TypeORM wraps its own (driverError).
export function markPoolErrors(pool: Pool): void {
  const connect = pool.connect.bind(pool) as (cb?: (err: Error | undefined, client?: PoolClient, done?: (release?: unknown) => void) => void) => unknown;
  (pool as unknown as { connect: unknown }).connect = (cb?: (err: Error | undefined, client?: PoolClient, done?: (release?: unknown) => void) => void) =>
    typeof cb === 'function'
      ? connect((err, client, done) => cb(err ? markDatabaseError(err) : err, client, done))
      : (connect() as Promise<PoolClient>).catch((err: unknown) => {
          throw markDatabaseError(err);
        });
}

// Postgres could not be reached, or stopped answering: nothing about the request was wrong, a retry may succeed.
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  const driverError = (err as { driverError?: unknown })?.driverError;
  const ours = Boolean(err && typeof err === 'object' && (fromDatabase.has(err) || driverError !== undefined));
  if (code !== undefined && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || (ours && UNREACHABLE_SYSCALL_CODES.has(code)))) return true;
  const e = err as { message?: unknown; driverError?: { message?: unknown } };
  const message = e?.driverError?.message ?? e?.message;
  return typeof message === 'string' && UNREACHABLE_MESSAGES.includes(message);
}
