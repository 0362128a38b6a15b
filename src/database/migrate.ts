import { loadEnv } from '../config/load-env';
import { revertLastMigration, runMigrations } from './run-migrations';

// `npm run migration:run` / `migration:revert`; the embedded default migrates itself at start.
async function main() {
  const env = loadEnv();
  if (!env.DATABASE_URL) {
    console.error('DATABASE_URL is not set: the embedded database migrates at `npm start`.');
    process.exit(2);
  }
  const command = process.argv[2];
  if (command === 'run') {
    const ran = await runMigrations(env.DATABASE_URL, { lock: true });
    console.log(ran.length ? `ran: ${ran.join(', ')}` : 'no pending migrations');
  } else if (command === 'revert') {
    await revertLastMigration(env.DATABASE_URL);
    console.log('reverted the last migration');
  } else {
    console.error('usage: migrate.js run|revert');
    process.exit(2);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
