import { SafeHttpClient } from '../../../libs/safe-http';
import { AppConfig } from '../../config/app-config';

// The SSRF-safe clients every outgoing call goes through: private addresses refused at connect time unless
// allow-listed. OUTBOUND_HTTP (bots' media URLs) reaches only what OUTBOUND_ALLOWLIST names; WEBHOOK_HTTP
// (webhook delivery, callback verification) also loopback in insecure mode with an empty list (AppConfig).
export const OUTBOUND_HTTP = Symbol('OUTBOUND_HTTP');
export const WEBHOOK_HTTP = Symbol('WEBHOOK_HTTP');

export function createOutboundHttp(config: AppConfig): SafeHttpClient {
  return safeClient(config, config.outboundAllowlist);
}

export function createWebhookHttp(config: AppConfig): SafeHttpClient {
  // One process may hold every slot of an endpoint's cap: a POST past the pool's size would wait for a socket
  // while its deadline runs, and time out (or be cut off mid-answer, so sent again) with the bot doing fine.
  return safeClient(config, config.webhookAllowlist, Math.max(16, config.env.WEBHOOK_ENDPOINT_MAX_IN_FLIGHT));
}

function safeClient(config: AppConfig, allowlist: string[], connectionsPerOrigin = 16): SafeHttpClient {
  return new SafeHttpClient({
    allowlist,
    allowInsecureHttp: config.allowInsecureWebhooks,
    connectTimeoutMs: 5000,
    connectionsPerOrigin,
  });
}
