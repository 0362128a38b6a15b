import 'reflect-metadata';
import { ConfigError, loadEnv } from './config/load-env';
import { ProcessRole } from './config/app-config';
import { startPlatform } from './bootstrap/start';

const ROLES: ProcessRole[] = ['all', 'api', 'worker'];
const SHUTDOWN_DEADLINE_MS = 15_000;

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
    // Attempts in flight get a bounded time to finish; a stuck dependency must not keep the process alive.
    const deadline = setTimeout(() => {
      platform.logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
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
