import * as path from 'node:path';
import { SecretBox } from '../common/crypto/secret-box';
import { EnvSchema } from './env.schema';
import { resolveSecretsKey } from './secrets-key';

// Typed view over the env: derived settings computed once, here, not at each use.
export type ProcessRole = 'all' | 'api' | 'worker';

export class AppConfig {
  readonly embeddedDatabase: boolean;
  readonly embeddedRedis: boolean;
  readonly dataDir: string;
  readonly allowInsecureWebhooks: boolean;
  readonly outboundAllowlist: string[];
  readonly webhookAllowlist: string[];
  readonly secretBox: SecretBox;
  readonly runsWorkers: boolean;
  readonly servesHttp: boolean;
  readonly secretsKeySource: string;

  constructor(
    readonly env: EnvSchema,
    readonly role: ProcessRole = 'all',
  ) {
    this.embeddedDatabase = !env.DATABASE_URL;
    this.embeddedRedis = !env.REDIS_URL;
    this.dataDir = path.resolve(env.DATA_DIR);
    // The embedded default is for a laptop: local bots over plain http are the common case there.
    this.allowInsecureWebhooks = env.ALLOW_INSECURE_WEBHOOKS ?? this.embeddedDatabase;
    const list = env.OUTBOUND_ALLOWLIST.split(',').map((s) => s.trim()).filter(Boolean);
    const secrets = resolveSecretsKey(env.SECRETS_KEY, this.dataDir);
    this.secretBox = new SecretBox(secrets.key);
    this.secretsKeySource = secrets.source;
    this.runsWorkers = role !== 'api';
    this.servesHttp = role !== 'worker';
    // Private addresses a call may reach: only those OUTBOUND_ALLOWLIST names. Webhooks alone (delivery and the
    // callback's verification) may also reach loopback in insecure mode when the list is empty, so a bot on the same
    // laptop just works; a bot's media URL or a script's fetch never gets loopback that way (a read-back SSRF).
    this.outboundAllowlist = list;
    this.webhookAllowlist = list.length || !this.allowInsecureWebhooks ? list : ['127.0.0.0/8', '::1/128'];
  }
}
