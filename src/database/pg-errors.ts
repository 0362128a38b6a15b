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

// Postgres could not be reached, or stopped answering: nothing about the request was wrong, a retry may succeed.
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = pgCode(err);
  if (code !== undefined && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNREACHABLE_SYSCALL_CODES.has(code))) return true;
  const e = err as { message?: unknown; driverError?: { message?: unknown } };
  const message = e?.driverError?.message ?? e?.message;
  return typeof message === 'string' && UNREACHABLE_MESSAGES.includes(message);
}
