import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { toStorableText } from '../../libs/templates';
import type { InvocationResult } from './runtime';

// script_logs: what a script printed (already bounded per invocation by the runtime) and how each run ended.
@Injectable()
export class ScriptLogs {
  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async append(pageId: string, versionId: string, deliveryId: string | null, r: InvocationResult, failure: string | null) {
    const levels = r.logs.map((l) => l.level);
    // What a script prints may hold a NUL or an unpaired surrogate: kept, made storable.
    const messages = r.logs.map((l) => toStorableText(l.message));
    const sources = r.logs.map(() => 'script');
    if (failure) {
      levels.push('error');
      messages.push(toStorableText(`[sandbox] ${failure}`));
      sources.push('platform');
    }
    if (!messages.length) return;
    // One transaction: a reader never sees more than the retention (new lines in, old ones not yet out).
    await this.db.transaction(async (m) => {
      await m.query(
        `INSERT INTO script_logs (page_id, version_id, delivery_id, level, message, source)
         SELECT $1, $2, $3, l.level, l.message, l.source
           FROM unnest($4::varchar[], $5::text[], $6::varchar[]) WITH ORDINALITY AS l(level, message, source, n) ORDER BY n`,
        [pageId, versionId, deliveryId, levels, messages, sources],
      );
      await this.trim(m, pageId);
    });
  }

  async line(pageId: string, versionId: string, deliveryId: string | null, level: string, message: string) {
    await this.db.query(
      `INSERT INTO script_logs (page_id, version_id, delivery_id, level, message, source) VALUES ($1, $2, $3, $4, $5, 'platform')`,
      [pageId, versionId, deliveryId, level, toStorableText(message)],
    );
  }

  // Retention per Page: the newest SCRIPT_LOG_RETENTION_PER_PAGE rows stay.
  private async trim(m: EntityManager, pageId: string) {
    await m.query(
      `DELETE FROM script_logs WHERE page_id = $1 AND id < (
         SELECT id FROM script_logs WHERE page_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
      [pageId, this.config.env.SCRIPT_LOG_RETENTION_PER_PAGE - 1],
    );
  }

  async list(versionId: string, limit: number, beforeId?: string) {
    const rows: { id: string; level: string; source: string; message: string; delivery_id: string | null; created_at: Date }[] =
      await this.db.query(
        `SELECT id, level, source, message, delivery_id, created_at FROM script_logs
          WHERE version_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
          ORDER BY id DESC LIMIT $3`,
        [versionId, beforeId ?? null, limit],
      );
    return rows.map((r) => ({
      id: String(r.id),
      level: r.level,
      source: r.source,
      message: r.message,
      delivery_id: r.delivery_id,
      created_at: new Date(r.created_at).toISOString(),
    }));
  }
}
