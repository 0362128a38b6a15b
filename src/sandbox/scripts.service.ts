import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { numericId } from '../common/crypto/tokens';
import { PagesService } from '../pages/pages.service';
import { UploadScriptDto } from './dto/upload-script.dto';
import { handlerFor, isAllowedHostName } from './event-handler';
import type { SandboxLimits } from './runtime';
import { checkPageLimits } from './script-limits';
import { ScriptErrors } from './sandbox.errors';
import { SandboxPools } from './sandbox-pools';
import { ScriptLogs } from './script-logs';

export const DEFAULT_SCRIPT_FIELDS = ['messages', 'messaging_postbacks'];
// The hosted app's subscription has no URL: its deliveries are run by the sandbox (target 'script').
const HOSTED_CALLBACK = 'hosted:script';

interface VersionRow {
  id: string;
  version: number;
  source: string;
  subscribed_fields: string[];
  allowed_hosts: string[];
  limits: Record<string, number>;
  created_at: Date;
}

@Injectable()
export class ScriptsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly pages: PagesService,
    private readonly pools: SandboxPools,
    private readonly logs: ScriptLogs,
  ) {}

  async list(pageId: string, userId: string) {
    await this.pages.assertAdmin(pageId, userId);
    const [ps]: {
      app_id: string;
      handover_role: 'primary' | 'secondary' | null;
      active_version_id: string | null;
      paused_at: Date | null;
      paused_reason: string | null;
      consecutive_failures: number;
    }[] = await this.db.query(
      `SELECT s.app_id, pa.handover_role, s.active_version_id, s.paused_at, s.paused_reason, s.consecutive_failures
         FROM page_scripts s LEFT JOIN page_apps pa ON pa.page_id = s.page_id AND pa.app_id = s.app_id
        WHERE s.page_id = $1`,
      [pageId],
    );
    const rows: VersionRow[] = await this.db.query(
      `SELECT id, version, subscribed_fields, allowed_hosts, limits, created_at FROM script_versions
        WHERE page_id = $1 ORDER BY version DESC LIMIT 200`,
      [pageId],
    );
    const active = rows.find((r) => r.id === ps?.active_version_id);
    return {
      app_id: ps?.app_id ?? null,
      handover_role: ps?.handover_role ?? null,
      active_version: active?.version ?? null,
      paused: Boolean(ps?.paused_at),
      paused_at: ps?.paused_at ? new Date(ps.paused_at).toISOString() : null,
      paused_reason: ps?.paused_reason ?? null,
      consecutive_failures: ps?.consecutive_failures ?? 0,
      data: rows.map((r) => ({
        version: r.version,
        subscribed_fields: r.subscribed_fields,
        allowed_hosts: r.allowed_hosts,
        limits: r.limits,
        active: r.id === ps?.active_version_id,
        created_at: new Date(r.created_at).toISOString(),
      })),
    };
  }

  async upload(pageId: string, userId: string, dto: UploadScriptDto) {
    await this.pages.assertAdmin(pageId, userId);
    const hosts = [...new Set((dto.allowed_hosts ?? []).map((h) => h.trim().toLowerCase()))];
    const bad = hosts.find((h) => !isAllowedHostName(h));
    if (bad !== undefined) throw ScriptErrors.invalid('allowed_hosts', `allowed_hosts: "${bad}" is not a DNS host name`);
    const limits = Object.fromEntries(Object.entries(dto.limits ?? {}).filter(([, v]) => v !== undefined)) as Partial<SandboxLimits>;
    const refused = checkPageLimits(limits);
    if (refused) throw ScriptErrors.invalid('limits', refused);
    const syntax = await this.pools.checkSyntax(dto.source);
    if (!syntax.ok) throw ScriptErrors.syntax(syntax.message, syntax.line, syntax.column);
    const fields = [...new Set(dto.subscribed_fields?.length ? dto.subscribed_fields : DEFAULT_SCRIPT_FIELDS)];
    try {
      const [row]: VersionRow[] = await this.db.query(
        `INSERT INTO script_versions (id, page_id, version, source, subscribed_fields, allowed_hosts, limits, created_by)
         SELECT $1::uuid, $2::varchar, coalesce(max(version), 0) + 1, $3::text, $4::text[], $5::text[], $6::jsonb, $7::varchar
           FROM script_versions WHERE page_id = $2::varchar
         RETURNING id, version, subscribed_fields, allowed_hosts, limits, created_at`,
        [randomUUID(), pageId, dto.source, fields, hosts, JSON.stringify(limits), userId],
      );
      return { version: row.version, subscribed_fields: row.subscribed_fields, allowed_hosts: row.allowed_hosts, limits: row.limits, active: false, created_at: new Date(row.created_at).toISOString() };
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw ScriptErrors.uploadRace();
      throw err;
    }
  }

  async getVersion(pageId: string, userId: string, version: string) {
    await this.pages.assertAdmin(pageId, userId);
    const v = await this.findVersion(pageId, version);
    const [ps]: { active_version_id: string | null }[] = await this.db.query(
      'SELECT active_version_id FROM page_scripts WHERE page_id = $1',
      [pageId],
    );
    return {
      version: v.version,
      subscribed_fields: v.subscribed_fields,
      allowed_hosts: v.allowed_hosts,
      limits: v.limits,
      active: v.id === ps?.active_version_id,
      created_at: new Date(v.created_at).toISOString(),
      source: v.source,
    };
  }

  private async findVersion(pageId: string, version: string): Promise<VersionRow> {
    const n = /^\d{1,9}$/.test(version) ? Number(version) : NaN;
    const [row]: VersionRow[] = Number.isFinite(n)
      ? await this.db.query(
          `SELECT id, version, source, subscribed_fields, allowed_hosts, limits, created_at FROM script_versions
            WHERE page_id = $1 AND version = $2`,
          [pageId, n],
        )
      : [];
    if (!row) throw ScriptErrors.versionNotFound(version);
    return row;
  }

  // Instant: deliveries already recorded run with whichever version is active when they are claimed.
  // Activating also clears a tripped breaker; the kept events then run.
  async activate(pageId: string, userId: string, version: string) {
    const page = await this.pages.assertAdmin(pageId, userId);
    const v = await this.findVersion(pageId, version);
    const previous = await this.db.transaction(async (m) => {
      const [ps]: { app_id: string; active_version_id: string | null; paused: boolean }[] = await m.query(
        'SELECT app_id, active_version_id, paused_at IS NOT NULL AS paused FROM page_scripts WHERE page_id = $1 FOR UPDATE',
        [pageId],
      );
      // Coming back from a deactivation: whatever is still pending was recorded in the moment of it (an event whose
      // statement read the connection just before it went) or is a run that was in flight then and failed. Dropped
      // like the rest of that queue, never run days later by the new version.
      if (ps && ps.active_version_id === null) await this.dropQueue(m, ps.app_id);
      let appId = ps?.app_id;
      if (!appId) {
        // The script's delivery target: an internal app owned by the admin, connected to the page.
        appId = numericId();
        await m.query(`INSERT INTO apps (id, name, owner_id, hosted) VALUES ($1, $2, $3, true)`, [
          appId,
          `Hosted script of ${page.name}`.slice(0, 100),
          userId,
        ]);
        await m.query(
          `INSERT INTO page_scripts (page_id, app_id, active_version_id) VALUES ($1, $2, $3)`,
          [pageId, appId, v.id],
        );
      }
      const subscription = JSON.stringify(v.subscribed_fields.map((name) => ({ name, version: 'v21.0' })));
      await m.query(
        `INSERT INTO app_subscriptions (app_id, object, callback_url, fields, active, updated_at)
         VALUES ($1, 'page', $2, $3::jsonb, true, now())
         ON CONFLICT (app_id, object) DO UPDATE SET fields = EXCLUDED.fields, active = true, callback_url = EXCLUDED.callback_url, updated_at = now()`,
        [appId, HOSTED_CALLBACK, subscription],
      );
      await m.query(
        `INSERT INTO page_apps (page_id, app_id, subscribed_fields, created_at, updated_at) VALUES ($1, $2, $3, now(), now())
         ON CONFLICT (page_id, app_id) DO UPDATE SET subscribed_fields = EXCLUDED.subscribed_fields, updated_at = now()`,
        [pageId, appId, v.subscribed_fields],
      );
      await m.query(
        `UPDATE page_scripts SET active_version_id = $2, paused_at = NULL, paused_reason = NULL, consecutive_failures = 0, updated_at = now()
          WHERE page_id = $1`,
        [pageId, v.id],
      );
      if (ps?.paused) await this.bringKeptEventsForward(m, ps.app_id);
      return ps?.active_version_id ?? null;
    });
    // The replaced version's warm isolates go (in this process; other workers' idle out).
    if (previous && previous !== v.id) this.pools.dispose(previous);
    await this.logs.line(pageId, v.id, null, 'info', `[sandbox] version ${v.version} activated`);
    return { active_version: v.version };
  }

  // Clears a tripped breaker and keeps the active version: for a failure whose cause was outside the script (an
  // API it fetches was down). The kept events run again in order, picked up by the poller. Idempotent.
  async resume(pageId: string, userId: string) {
    await this.pages.assertAdmin(pageId, userId);
    const resumed = await this.db.transaction(async (m) => {
      const [ps]: { app_id: string; active_version_id: string | null; version: number | null; paused: boolean }[] = await m.query(
        `SELECT ps.app_id, ps.active_version_id, v.version, ps.paused_at IS NOT NULL AS paused
           FROM page_scripts ps LEFT JOIN script_versions v ON v.id = ps.active_version_id
          WHERE ps.page_id = $1 FOR UPDATE OF ps`,
        [pageId],
      );
      if (!ps?.active_version_id || ps.version === null) throw ScriptErrors.notActive();
      if (!ps.paused) return { ps, kept: 0 };
      await m.query(
        `UPDATE page_scripts SET paused_at = NULL, paused_reason = NULL, consecutive_failures = 0, updated_at = now() WHERE page_id = $1`,
        [pageId],
      );
      return { ps, kept: await this.bringKeptEventsForward(m, ps.app_id) };
    });
    const { ps, kept } = resumed;
    if (ps.paused) {
      await this.logs.line(pageId, ps.active_version_id!, null, 'info', `[sandbox] resumed by an admin; ${kept} kept events run again`);
    }
    return { active_version: ps.version!, paused: false, resumed: ps.paused, kept_events: kept };
  }

  // Disconnects the hosted script as an admin disconnects an app: the hosted app leaves page_apps, so the page's new
  // events get no delivery for it at all. Events already waiting for the script are dropped (status 'failed', with
  // the reason): they were for the version being switched off, and activating one later must not replay a backlog.
  // A run already in flight finishes with its version (its sends stand); if it fails it is not retried. Idempotent.
  async deactivate(pageId: string, userId: string) {
    await this.pages.assertAdmin(pageId, userId);
    const { previous, version, dropped } = await this.db.transaction(async (m) => {
      const [ps]: { app_id: string; active_version_id: string | null; version: number | null }[] = await m.query(
        `SELECT ps.app_id, ps.active_version_id, v.version
           FROM page_scripts ps LEFT JOIN script_versions v ON v.id = ps.active_version_id
          WHERE ps.page_id = $1 FOR UPDATE OF ps`,
        [pageId],
      );
      if (!ps) return { previous: null, version: null, dropped: 0 };
      await m.query('DELETE FROM page_apps WHERE page_id = $1 AND app_id = $2', [pageId, ps.app_id]);
      await m.query(
        `UPDATE page_scripts SET active_version_id = NULL, paused_at = NULL, paused_reason = NULL, consecutive_failures = 0, updated_at = now()
          WHERE page_id = $1`,
        [pageId],
      );
      return { previous: ps.active_version_id, version: ps.version, dropped: await this.dropQueue(m, ps.app_id) };
    });
    if (previous) {
      this.pools.dispose(previous);
      await this.logs.line(pageId, previous, null, 'info', `[sandbox] version ${version} deactivated by an admin; ${dropped} queued events dropped`);
    }
    return { active_version: null, paused: false, deactivated: previous !== null, dropped_events: dropped };
  }

  private async dropQueue(m: EntityManager, appId: string): Promise<number> {
    const [{ n }]: { n: number }[] = await m.query(
      `WITH d AS (
         UPDATE webhook_deliveries SET status = 'failed', lease_until = NULL, last_error = 'dropped: the hosted script was deactivated'
          WHERE app_id = $1 AND target = 'script' AND status = 'pending'
         RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [appId],
    );
    return n;
  }

  // The breaker held these back; their retry delays grew while it did. They are due now (still in thread order).
  private async bringKeptEventsForward(m: EntityManager, appId: string): Promise<number> {
    await m.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now()
        WHERE app_id = $1 AND target = 'script' AND status = 'pending' AND next_attempt_at > now()`,
      [appId],
    );
    const [{ n }]: { n: number }[] = await m.query(
      `SELECT count(*)::int AS n FROM webhook_deliveries WHERE app_id = $1 AND target = 'script' AND status = 'pending'`,
      [appId],
    );
    return n;
  }

  async listLogs(pageId: string, userId: string, version: string, limit = 100, before?: string) {
    await this.pages.assertAdmin(pageId, userId);
    const v = await this.findVersion(pageId, version);
    return { data: await this.logs.list(v.id, Math.min(Math.max(limit, 1), 1000), before) };
  }

  async dryRun(pageId: string, userId: string, version: string, event: Record<string, unknown>) {
    await this.pages.assertAdmin(pageId, userId);
    const v = await this.findVersion(pageId, version);
    const handler = handlerFor(event);
    if (!handler) throw ScriptErrors.badEvent('event is not a Messenger messaging item (message, postback, delivery, read, …)');
    const { result, sends } = await this.pools.dryRun({
      pageId,
      scriptVersionId: v.id,
      source: v.source,
      handler,
      event,
      allowedHosts: v.allowed_hosts,
      limits: v.limits ?? {},
    });
    return {
      outcome: result.outcome,
      handler,
      handled: result.handled,
      ...(result.limit ? { limit: result.limit } : {}),
      ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
      sends,
      logs: result.logs.map((l) => ({ level: l.level, message: l.message })),
      logs_truncated: result.logsTruncated,
      cpu_ms: result.cpuMs,
      wall_ms: result.wallMs,
    };
  }
}
