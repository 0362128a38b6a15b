import { TestDatabase } from './test-database';

// Row count of every table but migrations: "nothing written" means this did not change.
export async function rowCounts(db: TestDatabase): Promise<Record<string, number>> {
  const rows = await db.query<{ t: string; n: number }>(`
    SELECT c.relname AS t, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I', c.relname), false, true, '')))[1]::text::int AS n
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
     WHERE s.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'migrations'
     ORDER BY 1`);
  return Object.fromEntries(rows.map((r) => [r.t, r.n]));
}
