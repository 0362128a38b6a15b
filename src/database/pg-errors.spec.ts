import type { Pool } from 'pg';
import { isDatabaseUnavailable, isUniqueViolation, markDatabaseError, markPoolErrors } from './pg-errors';

describe('isDatabaseUnavailable', () => {
  const sqlState = (code: string) => Object.assign(new Error(`sqlstate ${code}`), { code });
  // TypeORM wraps the driver's error in QueryFailedError, keeping it as driverError.
  const wrapped = (driverError: Error) => Object.assign(new Error(driverError.message), { driverError });

  it.each([
    ['the pool cannot connect in time', new Error('timeout exceeded when trying to connect')],
    ['a query timed out (DATABASE_QUERY_TIMEOUT_MS)', new Error('Query read timeout')],
    ['the connection dropped mid-query', new Error('Connection terminated unexpectedly')],
    ['the server refuses connections', markDatabaseError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))],
    ['a wrapped socket error', wrapped(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))],
    ['a connection exception (class 08)', sqlState('08006')],
    ['the server shutting down', sqlState('57P01')],
    ['the server starting up', sqlState('57P03')],
    ['too many connections', sqlState('53300')],
    ['the same, wrapped by TypeORM', wrapped(new Error('Query read timeout'))],
    ['a wrapped connection exception', wrapped(sqlState('08003'))],
  ])('says yes when %s', (_, err) => expect(isDatabaseUnavailable(err)).toBe(true));

  it.each([
    ['a unique violation', sqlState('23505')],
    ['a syntax error', sqlState('42601')],
    ['a serialization failure', sqlState('40001')],
    ['a statement timeout (the server answered)', sqlState('57014')],
    ['an unrelated error', new Error('boom')],
    // A client hanging up mid-body, an outgoing call refused: the same codes, not the database's.
    ['a socket error not marked as the database client\'s', Object.assign(new Error('aborted'), { code: 'ECONNRESET' })],
    ['another refused connection', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' })],
    ['no error at all', undefined],
  ])('says no for %s', (_, err) => expect(isDatabaseUnavailable(err)).toBe(false));

  it("marks what a pool's connect fails with, in both of pg-pool's calling styles", async () => {
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const pool = {
      connect(cb?: (err: Error) => void) {
        if (cb) return void cb(refused());
        return Promise.reject(refused());
      },
    };
    markPoolErrors(pool as unknown as Pool);
    const viaPromise = await (pool.connect() as Promise<never>).catch((e: Error) => e);
    expect(isDatabaseUnavailable(viaPromise)).toBe(true);
    const viaCallback = await new Promise<Error>((resolve) => pool.connect(resolve));
    expect(isDatabaseUnavailable(viaCallback)).toBe(true);
    expect(isDatabaseUnavailable(refused())).toBe(false);
  });

  it('leaves the other checks as they were', () => {
    expect(isUniqueViolation(sqlState('23505'))).toBe(true);
    expect(isUniqueViolation(sqlState('08006'))).toBe(false);
  });
});
