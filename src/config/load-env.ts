import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { parseConnectTo } from '../../libs/safe-http';
import { EnvSchema } from './env.schema';

export class ConfigError extends Error {}

export function envKeys(): string[] {
  const metas = getMetadataStorage().getTargetValidationMetadatas(EnvSchema, '', true, false);
  return [...new Set(metas.map((m) => m.propertyName))];
}

function describe(errors: ValidationError[]): string {
  return errors
    .map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`)
    .join('\n  ');
}

// Read once at boot; a bad variable stops the process with its name.
export function loadEnv(source: NodeJS.ProcessEnv = process.env): EnvSchema {
  const raw: Record<string, unknown> = {};
  for (const key of envKeys()) if (source[key] !== undefined) raw[key] = source[key];
  const env = plainToInstance(EnvSchema, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: false });
  if (errors.length) throw new ConfigError(`Invalid configuration:\n  ${describe(errors)}`);
  if (Boolean(env.TLS_CERT_FILE) !== Boolean(env.TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  try {
    parseConnectTo(env.SCRIPT_FETCH_CONNECT_TO);
  } catch (err) {
    throw new ConfigError(`Invalid configuration:\n  SCRIPT_FETCH_CONNECT_TO: ${(err as Error).message}`);
  }
  if (env.NODE_ENV === 'production' && !env.SECRETS_KEY) {
    throw new ConfigError('Invalid configuration:\n  SECRETS_KEY is required when NODE_ENV=production');
  }
  return env;
}
