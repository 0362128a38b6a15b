import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SafeHttpClient, SafeHttpError } from '../../libs/safe-http';
import { formatParam, UNSTORABLE_TEXT_PHRASE, unstorableTextPath } from '../../libs/templates';
import { AppConfig } from '../config/app-config';
import { SerialByKey } from '../common/async/serial-by-key';
import { GraphException } from '../common/errors/graph.exception';
import { AccountLinkingService } from '../account-linking/account-linking.service';
import { HandoverService } from '../handover/handover.service';
import { SendApiService } from '../send-api/send-api.service';
import { refuseFetchUrl } from './event-handler';
import { createScriptFetchHttp } from './script-fetch-http';
import type { FetchRequest, FetchResponse, HandoverCall, HostBridge, HostResult } from './runtime';

const fail = (code: string, message: string): HostResult<never> => ({ ok: false, error: { code, message } });

// Postgres would refuse a NUL or an unpaired surrogate inside the statement; the script is told which (the dry run
// too, so a test run takes the live run's path).
export function unstorableStoreEntry(key: string, value: unknown): HostResult<never> | undefined {
  const unstorable = unstorableTextPath({ key, value });
  return unstorable ? fail('invalid_value', `ctx.store ${formatParam(unstorable)} ${UNSTORABLE_TEXT_PHRASE}`) : undefined;
}
const DROPPED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

// What the platform offers scripts: ctx.send through the Send API, ctx.store in Postgres, ctx.fetch through the
// SSRF-safe client. pageId always comes from the pool (the invocation), never from the script.
@Injectable()
export class ScriptHostBridge implements HostBridge, OnModuleDestroy {
  private readonly logger = new Logger('ScriptHostBridge');
  private readonly appIds = new Map<string, string>();
  // ctx.fetch calls per Page's current event; reset by the processor when an invocation starts.
  private readonly http: SafeHttpClient;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly sendApi: SendApiService,
    private readonly handoverService: HandoverService,
    private readonly accountLinking: AccountLinkingService,
  ) {
    this.http = createScriptFetchHttp(config);
  }

  async onModuleDestroy(): Promise<void> {
    await this.http.close();
  }

  // One store write per Page at a time in this process.
  private readonly storeTurns = new SerialByKey();

  private async appIdOf(pageId: string): Promise<string | undefined> {
    let id = this.appIds.get(pageId);
    if (!id) {
      const [row]: { app_id: string }[] = await this.db.query('SELECT app_id FROM page_scripts WHERE page_id = $1', [pageId]);
      id = row?.app_id;
      if (id) this.appIds.set(pageId, id);
    }
    return id;
  }

  async send(pageId: string, message: unknown): Promise<HostResult<unknown>> {
    const appId = await this.appIdOf(pageId);
    if (!appId) return fail('send_failed', 'this page has no hosted script');
    // Exactly the Send API: validation, templates, window and rate rules.
    const result = await this.sendApi.send(pageId, appId, message);
    if ('error' in result) return fail('send_failed', `(#${result.error.code}) ${result.error.message}`);
    return { ok: true, result };
  }

  // Exactly the Graph routes (/me/pass_thread_control and the rest, /me/thread_owner) as the hosted app: the same
  // roles, control checks, buckets and notices. Refusals come back as Graph's code and message.
  async handover(pageId: string, call: HandoverCall): Promise<HostResult<unknown>> {
    const appId = await this.appIdOf(pageId);
    if (!appId) return fail('handover_failed', 'this page has no hosted script');
    const params = {
      recipient: { id: call.recipient },
      ...(call.target_app_id === undefined ? {} : { target_app_id: call.target_app_id }),
      ...(call.metadata === undefined ? {} : { metadata: call.metadata }),
    };
    try {
      if (call.action === 'owner') {
        const { data } = await this.handoverService.threadOwner(pageId, { recipient: call.recipient });
        return { ok: true, result: data[0]?.thread_owner.app_id ?? null };
      }
      return { ok: true, result: await this.handoverService.control(pageId, appId, call.action, params) };
    } catch (err) {
      if (err instanceof GraphException) return fail('handover_failed', err.message);
      throw err;
    }
  }

  // Exactly POST /me/unlink_accounts as the hosted app: the Page's and the app's Send API buckets, the unlinked
  // webhook and the person's event. Refusals come back as Graph's message.
  async unlinkAccount(pageId: string, psid: string): Promise<HostResult<unknown>> {
    const appId = await this.appIdOf(pageId);
    if (!appId) return fail('unlink_failed', 'this page has no hosted script');
    try {
      return { ok: true, result: await this.accountLinking.unlinkByPage(pageId, appId, psid) };
    } catch (err) {
      if (err instanceof GraphException) return fail('unlink_failed', err.message);
      throw err;
    }
  }

  async storeGet(pageId: string, key: string): Promise<HostResult<unknown>> {
    if (unstorableTextPath(key)) return { ok: true, result: null };
    const [row]: { value: unknown }[] = await this.db.query('SELECT value FROM script_store WHERE page_id = $1 AND key = $2', [
      pageId,
      key,
    ]);
    return { ok: true, result: row ? row.value : null };
  }

  async storeSet(pageId: string, key: string, value: unknown): Promise<HostResult<unknown>> {
    const refused = unstorableStoreEntry(key, value);
    if (refused) return refused;
    if (value === undefined) return this.storeDelete(pageId, key);
    const json = JSON.stringify(value);
    const bytes = Buffer.byteLength(key) + Buffer.byteLength(json);
    const quota = this.config.env.SCRIPT_STORE_QUOTA_BYTES;
    // The Page's writes take turns (a transaction-scoped lock per Page), so each one's quota check sees the others'
    // rows: checked in one statement alone, parallel writes each saw the rest missing and passed the quota together.
    // They queue in this process first, so one script's burst of writes waits here, not on pool connections that
    // every other request needs.
    const rows: unknown[] = await this.storeTurns.run(pageId, () => this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('sb-script-store:' || $1))`, [pageId]);
      return m.query(
        `INSERT INTO script_store (page_id, key, value, bytes, updated_at)
         SELECT $1::varchar, $2::varchar, $3::jsonb, $4::int, now()
          WHERE (SELECT coalesce(sum(bytes), 0) FROM script_store WHERE page_id = $1::varchar AND key <> $2::varchar) + $4::int <= $5::int
         ON CONFLICT (page_id, key) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, updated_at = now()
         RETURNING 1`,
        [pageId, key, json, bytes, quota],
      );
    }));
    if (!rows.length) return fail('quota_exceeded', `ctx.store is limited to ${quota} bytes per page`);
    return { ok: true, result: null };
  }

  async storeDelete(pageId: string, key: string): Promise<HostResult<unknown>> {
    if (unstorableTextPath(key)) return { ok: true, result: null };
    await this.db.query('DELETE FROM script_store WHERE page_id = $1 AND key = $2', [pageId, key]);
    return { ok: true, result: null };
  }

  async fetch(pageId: string, allowedHosts: readonly string[], req: FetchRequest): Promise<HostResult<FetchResponse>> {
    const refused = refuseFetchUrl(req.url, allowedHosts);
    if (refused) return fail('fetch_refused', refused);
    // SCRIPT_FETCH_MAX_PER_EVENT is counted by the pool, per invocation.
    const env = this.config.env;
    const headers: Record<string, string> = { 'user-agent': 'Switchboard-Scripts/0.1' };
    for (const [k, v] of Object.entries(req.headers)) if (!DROPPED_HEADERS.has(k.toLowerCase())) headers[k] = v;
    try {
      // Redirects are never followed: the script gets the 3xx and may fetch the Location if it is declared.
      const res = await this.http.request({
        method: req.method,
        url: req.url,
        headers,
        body: req.body,
        timeoutMs: env.SCRIPT_FETCH_TIMEOUT_MS,
        maxResponseBytes: env.SCRIPT_FETCH_MAX_BYTES,
      });
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
      return { ok: true, result: { status: res.status, headers: out, body: res.body.toString('utf8') } };
    } catch (err) {
      if (err instanceof SafeHttpError) return fail('fetch_failed', `${err.code}: ${err.message}`);
      this.logger.warn(`fetch for page ${pageId} failed: ${(err as Error).message}`);
      return fail('fetch_failed', 'the request failed');
    }
  }
}
