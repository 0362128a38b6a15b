import 'reflect-metadata';
import * as path from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';

export interface DatabaseSettings {
  url: string;
  poolSize: number;
  // Client-side bound on each query (0 or absent: none, as for migrations, which may legitimately run long).
  queryTimeoutMs?: number;
}

export const MIGRATIONS_GLOB = path.join(__dirname, 'migrations', '*.{js,ts}');
export const ENTITIES_GLOB = path.join(__dirname, '..', '**', '*.entity.{js,ts}');

// One definition shared by the app, the migration runner and the TypeORM CLI.
export function dataSourceOptions(db: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    synchronize: false,
    migrationsRun: false,
    migrations: [MIGRATIONS_GLOB],
    entities: [ENTITIES_GLOB],
    migrationsTableName: 'migrations',
    extra: {
      max: db.poolSize,
      connectionTimeoutMillis: 5000,
      // Without this a dead server leaves queries hanging; with it the pool errors fast and reconnects later.
      keepAlive: true,
      // A server or network that hangs without dropping the connection is only noticed by a deadline; the pool
      // then drops that connection.
      ...(db.queryTimeoutMs ? { query_timeout: db.queryTimeoutMs } : {}),
    },
  };
}

// Used by `typeorm migration:generate -d dist/src/database/data-source.js`.
export default new DataSource(
  dataSourceOptions({ url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', poolSize: 2 }),
);
