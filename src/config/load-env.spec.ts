import * as fs from 'node:fs';
import * as path from 'node:path';
import { envKeys, loadEnv, ConfigError } from './load-env';

describe('config', () => {
  it('stops with the name of a bad variable', () => {
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadEnv({ DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadEnv({ TLS_CERT_FILE: '/x' })).toThrow(/TLS_KEY_FILE/);
    expect(() => loadEnv({ NODE_ENV: 'production' })).toThrow(/SECRETS_KEY/);
    expect(() => loadEnv({ SCRIPT_FETCH_CONNECT_TO: 'api.example.com:443:localhost:8443' })).toThrow(
      /SCRIPT_FETCH_CONNECT_TO/,
    );
  });

  it('applies defaults and parses types', () => {
    const env = loadEnv({ PORT: '4000', MIGRATIONS_RUN: 'false' });
    expect(env.PORT).toBe(4000);
    expect(env.MIGRATIONS_RUN).toBe(false);
    expect(env.BODY_LIMIT_BYTES).toBe(1_048_576);
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('bounds the handover idle timeout; 0 turns it off', () => {
    expect(loadEnv({}).HANDOVER_IDLE_TIMEOUT_SECONDS).toBe(86400);
    expect(loadEnv({ HANDOVER_IDLE_TIMEOUT_SECONDS: '0' }).HANDOVER_IDLE_TIMEOUT_SECONDS).toBe(0);
    expect(() => loadEnv({ HANDOVER_IDLE_TIMEOUT_SECONDS: '-1' })).toThrow(/HANDOVER_IDLE_TIMEOUT_SECONDS/);
    expect(() => loadEnv({ HANDOVER_IDLE_SWEEP_INTERVAL_MS: '10' })).toThrow(/HANDOVER_IDLE_SWEEP_INTERVAL_MS/);
  });

  it('documents every variable in .env.example', () => {
    const example = fs.readFileSync(path.join(__dirname, '..', '..', '.env.example'), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    expect(envKeys().filter((k) => !documented.has(k))).toEqual([]);
  });
});
