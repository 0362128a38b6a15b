import * as path from 'node:path';
import { EnvSchema } from './env.schema';

// Typed view over the env: derived settings computed once, here, not at each use.
export class AppConfig {
  readonly embeddedDatabase: boolean;
  readonly embeddedRedis: boolean;
  readonly dataDir: string;
  readonly allowInsecureWebhooks: boolean;
  readonly outboundAllowlist: string[];

  constructor(readonly env: EnvSchema) {
    this.embeddedDatabase = !env.DATABASE_URL;
    this.embeddedRedis = !env.REDIS_URL;
    this.dataDir = path.resolve(env.DATA_DIR);
    // The embedded default is for a laptop: local bots over plain http are the common case there.
    this.allowInsecureWebhooks = env.ALLOW_INSECURE_WEBHOOKS ?? this.embeddedDatabase;
    const list = env.OUTBOUND_ALLOWLIST.split(',').map((s) => s.trim()).filter(Boolean);
    this.outboundAllowlist = list.length || !this.allowInsecureWebhooks ? list : ['127.0.0.0/8', '::1/128'];
  }
}
