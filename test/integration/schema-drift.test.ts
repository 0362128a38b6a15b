import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from '../support/test-database';

// The built data source and runner, as the app, `npm run migration:*` and the TypeORM CLI load them.
const database = path.join(__dirname, '..', '..', 'dist', 'src', 'database');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { dataSourceOptions } = require(path.join(database, 'data-source.js'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { runMigrations, revertLastMigration } = require(path.join(database, 'run-migrations.js'));

// What the entities still want changed in the database at `url`: nothing, when the migrations match them.
async function pendingSchemaChanges(url: string): Promise<string[]> {
  const ds: DataSource = new DataSource(dataSourceOptions({ url, poolSize: 1 }));
  await ds.initialize();
  try {
    return (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
  } finally {
    await ds.destroy();
  }
}

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('drift');
  });
  afterAll(() => db.drop());

  it('build the schema the entities describe (run `npm run migration:generate` after changing an entity)', async () => {
    const ran: string[] = await runMigrations(db.url, { lock: true });
    expect(ran.length).toBeGreaterThan(0);
    expect(await pendingSchemaChanges(db.url)).toEqual([]);
  });

  it('revert one by one to an empty schema, and run again to the same one', async () => {
    await runMigrations(db.url, { lock: true });
    const applied = async () => (await db.query<{ name: string }>('SELECT name FROM migrations ORDER BY id')).map((r) => r.name);
    const all = await applied();
    expect(all.length).toBeGreaterThan(0);
    for (let left = all.length; left > 0; left--) {
      await revertLastMigration(db.url);
      expect(await applied()).toEqual(all.slice(0, left - 1));
    }
    const tables = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`);
    expect(tables).toEqual([]);
    expect(await runMigrations(db.url, { lock: true })).toEqual(all);
    expect(await pendingSchemaChanges(db.url)).toEqual([]);
  });
});
