import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';

// Any constant works; it only has to be the same in every process of one deployment.
const MIGRATION_LOCK_KEY = 727_001;

// Several api processes may boot at once: the advisory lock lets one migrate while the others wait.
export async function runMigrations(url: string, opts: { lock: boolean }): Promise<string[]> {
  const lockClient = opts.lock ? new Client({ connectionString: url }) : undefined;
  if (lockClient) {
    // Unheard, a dropped connection's 'error' would crash the process instead of failing the migration.
    lockClient.on('error', () => undefined);
    await lockClient.connect();
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  }
  const ds = new DataSource({ ...dataSourceOptions({ url, poolSize: 1 }), entities: [] });
  try {
    await ds.initialize();
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (lockClient) {
      await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
      await lockClient.end();
    }
  }
}

export async function revertLastMigration(url: string): Promise<void> {
  const ds = new DataSource({ ...dataSourceOptions({ url, poolSize: 1 }), entities: [] });
  await ds.initialize();
  try {
    // TypeORM's undo ignores a migration's own `transaction = false` and would run its CREATE INDEX CONCURRENTLY
    // inside a transaction, which Postgres refuses: the mode comes from the migration being reverted.
    const [last] = await ds.query(`SELECT name FROM "${ds.options.migrationsTableName}" ORDER BY id DESC LIMIT 1`);
    const migration = ds.migrations.find((m) => (m.name ?? m.constructor.name) === last?.name);
    await ds.undoLastMigration({ transaction: migration?.transaction === false ? 'none' : 'each' });
  } finally {
    await ds.destroy();
  }
}
