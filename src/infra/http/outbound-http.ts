import { SafeHttpClient } from '../../../libs/safe-http';
import { AppConfig } from '../../config/app-config';

// The SSRF-safe client every outgoing call shares: private addresses refused at connect time unless allow-listed.
export const OUTBOUND_HTTP = Symbol('OUTBOUND_HTTP');

export function createOutboundHttp(config: AppConfig): SafeHttpClient {
  return new SafeHttpClient({
    allowlist: config.outboundAllowlist,
    allowInsecureHttp: config.allowInsecureWebhooks,
    connectTimeoutMs: 5000,
    connectionsPerOrigin: 16,
  });
}
