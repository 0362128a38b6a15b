import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppConfig } from '../config/app-config';
import { markDatabaseError, markPoolErrors } from './pg-errors';
import { inTransaction } from './pg-transaction';
import { enablePoolGuard } from './pool-guard';

// The hot path's statements, straight to the pool as named prepared statements: Postgres parses and plans each
// once per connection instead of on every call (planning the message append cost as much as running it).
// Answers rows, for every kind of statement. Anything inside a TypeORM transaction uses its EntityManager instead.
@Injectable()
export class SqlService {
  private readonly names = new Map<string, string>();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
  ) {
    markPoolErrors(this.pool);
    if (config.env.NODE_ENV === 'test') enablePoolGuard(this.pool, ds);
  }

  private get pool(): Pool {
    return (this.ds.driver as PostgresDriver).master as Pool;
  }

  query<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return this.run<T>(this.pool, text, params);
  }

  // BEGIN … COMMIT on one pooled connection (ROLLBACK if `work` throws), its statements prepared like query's.
  transaction<T>(work: (query: SqlQuery) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, (client) => work((text, params) => this.run(client, text, params)));
  }

  private async run<T>(on: Pick<Pool, 'query'>, text: string, params: unknown[] = []): Promise<T[]> {
    try {
      if (!this.config.env.DATABASE_PREPARED_STATEMENTS) return (await on.query(text, params)).rows as T[];
      let name = this.names.get(text);
      if (!name) {
        name = `sb_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
        this.names.set(text, name);
      }
      return (await on.query({ name, text, values: params })).rows as T[];
    } catch (err) {
      throw markDatabaseError(err);
    }
  }
}

export type SqlQuery = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;
