import 'reflect-metadata';
import { ConfigError, loadEnv } from './config/load-env';
import { ProcessRole } from './config/app-config';
import { startPlatform } from './bootstrap/start';

const ROLES: ProcessRole[] = ['all', 'api', 'worker'];

async function main() {
  const role = (process.argv[2] ?? 'all') as ProcessRole;
  if (!ROLES.includes(role)) {
    console.error(`Unknown role "${role}": use one of ${ROLES.join(', ')}`);
    process.exit(2);
  }
  const env = loadEnv();
  const platform = await startPlatform(env, role);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    platform.logger.info({ signal }, 'shutting down');
    await platform.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
