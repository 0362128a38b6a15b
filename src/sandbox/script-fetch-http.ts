import * as fs from 'node:fs';
import { parseConnectTo, SafeHttpClient } from '../../libs/safe-http';
import { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/load-env';

// ctx.fetch's own SSRF-safe client: its own connection pool (scripts cannot hold the webhooks' connections), with
// the operator's static routes and extra CAs. https only; private addresses need OUTBOUND_ALLOWLIST, routed or not.
export function createScriptFetchHttp(config: AppConfig): SafeHttpClient {
  const env = config.env;
  let ca: string | undefined;
  if (env.SCRIPT_FETCH_CA_FILE) {
    try {
      ca = fs.readFileSync(env.SCRIPT_FETCH_CA_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `Invalid configuration:\n  SCRIPT_FETCH_CA_FILE: cannot read ${env.SCRIPT_FETCH_CA_FILE} (${(err as Error).message})`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError(
        `Invalid configuration:\n  SCRIPT_FETCH_CA_FILE: ${env.SCRIPT_FETCH_CA_FILE} holds no PEM certificate`,
      );
    }
  }
  return new SafeHttpClient({
    allowlist: config.outboundAllowlist,
    allowInsecureHttp: false,
    connectTimeoutMs: 5000,
    connectionsPerOrigin: 16,
    ca,
    connectTo: parseConnectTo(env.SCRIPT_FETCH_CONNECT_TO),
  });
}
