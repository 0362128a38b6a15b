import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { spawnPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';

const PGLITE_QUERY = `
const { PGlite } = require('@electric-sql/pglite');
const { dir, text, params } = JSON.parse(process.env.QUERY);
(async () => {
  const db = await PGlite.create({ dataDir: dir });
  const { rows } = await db.query(text, params);
  await db.close();
  process.stdout.write(JSON.stringify(rows));
})();
`;

// The embedded default (PGlite, in-process stand-ins): the worker's sweep of expired account linking tokens runs in
// the one process `npm start` runs. PGlite is one process's at a time, so the test reads and writes it between
// boots.
describe('account linking token sweep on the embedded default', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-embedded-linking-'));
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  // One query on the stopped platform's PGlite, in a process of its own (PGlite loads itself with a dynamic import
  // Jest's module system doesn't run).
  const sql = (text: string, params: unknown[] = []): Record<string, unknown>[] =>
    JSON.parse(
      execFileSync(process.execPath, ['-e', PGLITE_QUERY], {
        env: { PATH: process.env.PATH ?? '', QUERY: JSON.stringify({ dir: path.join(dataDir, 'pg'), text, params }) },
        encoding: 'utf8',
      }),
    );

  it('deletes the expired tokens, used or not, and keeps the live ones', async () => {
    // A first boot creates the schema.
    let p = await spawnPlatform('all', { DATA_DIR: dataDir });
    expect(await p.stop()).toBe(0);
    const now = Date.now();
    sql(
      `INSERT INTO account_linking_tokens (token_hash, thread_id, page_id, expires_at, completed_at) VALUES
         ('expired', '1', '2', $1, NULL), ('expired-used', '1', '2', $1, $2), ('live', '1', '2', $3, NULL), ('live-used', '1', '2', $3, $4)`,
      [now - 1000, now - 60_000, now + 3_600_000, now],
    );
    p = await spawnPlatform('all', { DATA_DIR: dataDir, ACCOUNT_LINKING_SWEEP_INTERVAL_MS: '200' });
    try {
      expect(p.logs.join('')).toContain('embedded PGlite');
      await waitFor('the sweep', () => p.logs.join('').includes('removed 2 expired account linking tokens'));
    } finally {
      expect(await p.stop()).toBe(0);
    }
    const left = sql(`SELECT token_hash FROM account_linking_tokens ORDER BY token_hash`);
    expect(left.map((r) => r.token_hash)).toEqual(['live', 'live-used']);
  }, 120_000);
});
