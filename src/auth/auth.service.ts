import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, IsNull, Repository } from 'typeorm';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sha256Hex, randomToken, safeEqual } from '../common/crypto/tokens';
import { AppConfig } from '../config/app-config';
import { SqlService } from '../database/sql.service';
import { PUBSUB, PubSubPort } from '../infra/pubsub/pubsub.port';
import { AccessTokenEntity } from './entities/access-token.entity';
import { AppSecretEntity } from './entities/app-secret.entity';
import { Principal } from './principal';

export const PERSON_TOKEN_PREFIX = 'sbu_';
export const PAGE_TOKEN_PREFIX = 'sbp_';

interface TokenRow {
  kind: 'person' | 'page';
  user_id: string | null;
  page_id: string | null;
  app_id: string | null;
  expires_at: Date | null;
  page_suspended: Date | null;
  app_suspended: Date | null;
  require_proof: boolean | null;
}

// A verified Graph caller and whether its app demands appsecret_proof on every call.
export interface GraphCaller {
  principal: Principal;
  requireProof: boolean;
  // When the token stops working on its own (ms; null: never), for what outlives the request that checked it.
  expiresAt: number | null;
}

const FLUSH_CHANNEL = 'auth:credentials-changed';
// Person tokens revoked (logout): each process closes the sockets that were opened with them.
const REVOKED_CHANNEL = 'auth:person-tokens-revoked';
const CACHE_MAX = 100_000;

interface Cached<T> {
  value: T;
  until: number;
}

// Issues and checks every credential: person tokens, page tokens, and app secrets (`{app_id}|{app_secret}`).
// Verified tokens and live secrets are cached for AUTH_CACHE_TTL_MS: every call of the hot path would otherwise
// read them. Whatever revokes, suspends or rotates calls credentialsChanged(), which empties the caches of every
// process (PUBSUB); the TTL bounds how long a lost message can leave one stale.
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly callers = new Map<string, Cached<GraphCaller>>();
  private readonly secretsOf = new Map<string, Cached<{ secretHash: string; secretSealed: string }[]>>();
  private readonly revokedListeners: ((tokenHashes: string[]) => void)[] = [];
  // Bumped whenever the caches are emptied: a token read that one overlapped may hold what it removed.
  private generation = 0;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly sql: SqlService,
    @InjectRepository(AccessTokenEntity) private readonly tokens: Repository<AccessTokenEntity>,
    @Inject(PUBSUB) private readonly pubsub: PubSubPort,
  ) {}

  async onModuleInit(): Promise<void> {
    // A flush or revocation published while this process was cut off from the bus never arrives.
    this.pubsub.onResubscribed(() => this.forget());
    if (this.config.env.AUTH_CACHE_TTL_MS > 0) await this.pubsub.subscribe(FLUSH_CHANNEL, () => this.forget());
    await this.pubsub.subscribe(REVOKED_CHANNEL, (m) => {
      const hashes = (m as { token_hashes?: unknown }).token_hashes;
      if (!Array.isArray(hashes)) return;
      this.forget();
      for (const listener of this.revokedListeners) listener(hashes.filter((h): h is string => typeof h === 'string'));
    });
  }

  // Whoever holds something opened with a person token (the WebSocket gateway) is told when it is revoked.
  onPersonTokensRevoked(listener: (tokenHashes: string[]) => void): void {
    this.revokedListeners.push(listener);
  }

  // Of these person token hashes, the ones still valid (neither revoked nor expired): for holders of sockets
  // opened with them, after a revocation may have been missed.
  async livePersonTokenHashes(tokenHashes: string[]): Promise<Set<string>> {
    if (!tokenHashes.length) return new Set();
    const rows = await this.sql.query<{ token_hash: string }>(
      `SELECT token_hash FROM access_tokens
        WHERE token_hash = ANY($1::bpchar[]) AND kind = 'person' AND (expires_at IS NULL OR expires_at > now())`,
      [tokenHashes],
    );
    return new Set(rows.map((r) => r.token_hash));
  }

  // Logout: the token stops working everywhere at once; sockets opened with it are closed by every process.
  async revokePersonToken(token: string): Promise<void> {
    const tokenHash = sha256Hex(token);
    await this.tokens.delete({ tokenHash, kind: 'person' });
    this.forget();
    for (const listener of this.revokedListeners) listener([tokenHash]);
    await this.pubsub.publish(REVOKED_CHANNEL, { token_hashes: [tokenHash] }).catch(() => undefined);
  }

  // After a token is issued or revoked, a page or app suspended, a secret rotated, appsecret_proof required:
  // call once the change is committed.
  async credentialsChanged(): Promise<void> {
    this.forget();
    await this.pubsub.publish(FLUSH_CHANNEL, {}).catch(() => undefined);
  }

  private forget(): void {
    this.generation++;
    this.callers.clear();
    this.secretsOf.clear();
  }

  private cache<T>(map: Map<string, Cached<T>>, key: string, value: T, until = Infinity): T {
    const ttl = this.config.env.AUTH_CACHE_TTL_MS;
    if (ttl <= 0) return value;
    if (map.size >= CACHE_MAX) map.clear();
    map.set(key, { value, until: Math.min(Date.now() + ttl, until) });
    return value;
  }

  private cached<T>(map: Map<string, Cached<T>>, key: string): T | undefined {
    const hit = map.get(key);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.value;
    map.delete(key);
    return undefined;
  }

  async issuePersonToken(userId: string, manager: EntityManager = this.db.manager): Promise<string> {
    const token = randomToken(PERSON_TOKEN_PREFIX);
    const expiresAt = new Date(Date.now() + this.config.env.PERSON_TOKEN_TTL_SECONDS * 1000);
    await manager.insert(AccessTokenEntity, { tokenHash: sha256Hex(token), kind: 'person', userId, expiresAt });
    return token;
  }

  // One live token per (page, app): connecting again replaces it.
  async issuePageToken(pageId: string, appId: string, manager: EntityManager = this.db.manager): Promise<string> {
    const token = randomToken(PAGE_TOKEN_PREFIX);
    await manager.delete(AccessTokenEntity, { kind: 'page', pageId, appId });
    await manager.insert(AccessTokenEntity, { tokenHash: sha256Hex(token), kind: 'page', pageId, appId });
    return token;
  }

  async revokePageTokens(pageId: string, appId: string, manager: EntityManager = this.db.manager): Promise<void> {
    await manager.delete(AccessTokenEntity, { kind: 'page', pageId, appId });
  }

  async createAppSecret(appId: string, manager: EntityManager = this.db.manager): Promise<string> {
    const secret = randomBytes(16).toString('hex');
    await manager.insert(AppSecretEntity, {
      id: randomUUID(),
      appId,
      secretHash: sha256Hex(secret),
      secretSealed: this.config.secretBox.seal(secret),
      expiresAt: null,
    });
    return secret;
  }

  // The old secret keeps working (and keeps signing) until the grace period ends.
  async rotateAppSecret(appId: string): Promise<{ secret: string; previousExpiresAt: Date }> {
    const previousExpiresAt = new Date(Date.now() + this.config.env.APP_SECRET_GRACE_SECONDS * 1000);
    const secret = await this.db.transaction(async (m) => {
      await m
        .createQueryBuilder()
        .delete()
        .from(AppSecretEntity)
        .where('app_id = :appId AND expires_at IS NOT NULL', { appId })
        .execute();
      await m.update(AppSecretEntity, { appId, expiresAt: IsNull() }, { expiresAt: previousExpiresAt });
      return this.createAppSecret(appId, m);
    });
    await this.credentialsChanged();
    return { secret, previousExpiresAt };
  }

  // Plain secrets that sign outgoing webhooks, current first.
  async signingSecrets(appId: string): Promise<string[]> {
    const rows = await this.liveSecrets(appId);
    return rows.map((r) => this.config.secretBox.open(r.secretSealed));
  }

  // The current secret first, then any still in a rotation's grace period.
  private async liveSecrets(appId: string): Promise<{ secretHash: string; secretSealed: string }[]> {
    const hit = this.cached(this.secretsOf, appId);
    if (hit) return hit;
    // Cached at most until the earliest grace period among them ends.
    const rows = await this.sql.query<{ secretHash: string; secretSealed: string; expiresAt: Date | null }>(
      `SELECT secret_hash AS "secretHash", secret_sealed AS "secretSealed", expires_at AS "expiresAt" FROM app_secrets
        WHERE app_id = $1 AND (expires_at IS NULL OR expires_at > now())
        ORDER BY expires_at IS NOT NULL, created_at DESC`,
      [appId],
    );
    const until = Math.min(...rows.map((r) => (r.expiresAt ? new Date(r.expiresAt).getTime() : Infinity)));
    return this.cache(this.secretsOf, appId, rows, until);
  }

  async verifyAppSecret(appId: string, secret: string): Promise<boolean> {
    return (await this.appBySecret(appId, secret)) !== null;
  }

  // appsecret_proof = hex HMAC-SHA256(key = app secret, msg = access token), or, with `appsecret_time` (Unix
  // seconds), of `token|time`: a proof that expires, so a captured one can't be replayed for long. Checked
  // against every live secret of the app (a rotation's old one included), in constant time, without stopping early.
  async verifyAppsecretProof(appId: string, token: string, proof: string, time?: string): Promise<boolean> {
    if (!/^[0-9a-fA-F]{64}$/.test(proof)) return false;
    if (time !== undefined && !appsecretTimeIsFresh(time)) return false;
    const message = time === undefined ? token : `${token}|${time}`;
    const secrets = await this.signingSecrets(appId);
    let ok = false;
    for (const secret of secrets) {
      ok = safeEqual(createHmac('sha256', secret).update(message).digest('hex'), proof.toLowerCase()) || ok;
    }
    return ok;
  }

  private async appBySecret(appId: string, secret: string): Promise<{ requireProof: boolean } | null> {
    if (!/^\d{1,20}$/.test(appId)) return null;
    const hash = sha256Hex(secret);
    const rows = await this.liveSecrets(appId);
    let ok = false;
    // Compare against every live secret, in constant time, without stopping early.
    for (const r of rows) ok = safeEqual(r.secretHash, hash) || ok;
    if (!ok) return null;
    const [app] = await this.sql.query<{ suspended_at: Date | null; require_appsecret_proof: boolean }>(
      'SELECT suspended_at, require_appsecret_proof FROM apps WHERE id = $1',
      [appId],
    );
    return app && !app.suspended_at ? { requireProof: Boolean(app.require_appsecret_proof) } : null;
  }

  async verify(token: string): Promise<Principal | null> {
    return (await this.verifyGraphCaller(token))?.principal ?? null;
  }

  async verifyGraphCaller(token: string): Promise<GraphCaller | null> {
    if (!token || token.length > 512) return null;
    const bar = token.indexOf('|');
    if (bar > 0) {
      const appId = token.slice(0, bar);
      const app = await this.appBySecret(appId, token.slice(bar + 1));
      return app ? { principal: { kind: 'app', appId }, requireProof: app.requireProof, expiresAt: null } : null;
    }
    if (!token.startsWith(PERSON_TOKEN_PREFIX) && !token.startsWith(PAGE_TOKEN_PREFIX)) return null;
    // The lookup is by hash, so the stored value is never compared byte by byte against attacker input; the cache
    // is keyed by the hash too. Only accepted tokens are cached.
    const hash = sha256Hex(token);
    const hit = this.cached(this.callers, hash);
    if (hit) return hit;
    // A revocation or flush heard while the row was read may have deleted or changed it after the read: read again
    // (a few times at most), so neither this caller (a WebSocket lives on its upgrade's verdict) nor the cache keeps
    // a revoked token. A read still overlapped after that is answered but not cached.
    let rows: TokenRow[] = [];
    let settled = false;
    for (let attempt = 0; attempt < 3 && !settled; attempt++) {
      const generation = this.generation;
      rows = await this.sql.query<TokenRow>(
        `SELECT t.kind, t.user_id, t.page_id, t.app_id, t.expires_at,
                p.suspended_at AS page_suspended, a.suspended_at AS app_suspended,
                a.require_appsecret_proof AS require_proof
           FROM access_tokens t
           LEFT JOIN pages p ON p.id = t.page_id
           LEFT JOIN apps a ON a.id = t.app_id
          WHERE t.token_hash = $1`,
        [hash],
      );
      settled = generation === this.generation;
    }
    const row = rows[0];
    if (!row) return null;
    const expires = row.expires_at ? new Date(row.expires_at).getTime() : Infinity;
    if (expires <= Date.now()) return null;
    const expiresAt = row.expires_at ? expires : null;
    if (row.kind === 'person') {
      const person: GraphCaller = { principal: { kind: 'person', userId: row.user_id! }, requireProof: false, expiresAt };
      return settled ? this.cache(this.callers, hash, person, expires) : person;
    }
    if (row.page_suspended || row.app_suspended) return null;
    const caller: GraphCaller = {
      principal: { kind: 'page', pageId: row.page_id!, appId: row.app_id! },
      requireProof: Boolean(row.require_proof),
      expiresAt,
    };
    return settled ? this.cache(this.callers, hash, caller, expires) : caller;
  }
}

// How far `appsecret_time` may be from this server's clock, either way (clock skew and a slow request included).
export const APPSECRET_TIME_WINDOW_SECONDS = 300;

export function appsecretTimeIsFresh(time: string, nowMs = Date.now()): boolean {
  if (!/^\d{1,12}$/.test(time)) return false;
  return Math.abs(nowMs / 1000 - Number(time)) <= APPSECRET_TIME_WINDOW_SECONDS;
}
