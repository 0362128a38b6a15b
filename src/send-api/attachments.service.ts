import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MEDIA_ATTACHMENT_TYPES, parseGraphParams, validateMessageContent } from '../../libs/templates';
import { numericId } from '../common/crypto/tokens';
import { SendApiErrors } from './send-api.errors';

export interface ResolvedAttachment {
  id: string;
  type: string;
  url: string;
}

// The Attachment Upload API. Today an attachment id names a URL reference; the media pipeline will
// replace what `upload` stores and what `resolve` answers, behind the same two methods.
@Injectable()
export class AttachmentsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  // `{message:{attachment:{type, payload:{url, is_reusable}}}}` (Graph's shape; a bare `attachment` is taken too).
  async upload(pageId: string, appId: string | null, params: Record<string, unknown>): Promise<{ attachment_id: string }> {
    const parsed = parseGraphParams(params, ['message', 'attachment']);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const raw = parsed.value.message ?? (parsed.value.attachment !== undefined ? { attachment: parsed.value.attachment } : undefined);
    if (raw === undefined) throw SendApiErrors.invalid('param message is required');
    const valid = validateMessageContent(raw);
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    const att = valid.value.attachment as { type: string; payload?: { url?: string } } | undefined;
    if (!att) throw SendApiErrors.invalid('param message[attachment] is required');
    if (!(MEDIA_ATTACHMENT_TYPES as readonly string[]).includes(att.type)) {
      throw SendApiErrors.invalid(`param message[attachment][type] must be one of [${MEDIA_ATTACHMENT_TYPES.join(', ')}]`);
    }
    if (!att.payload?.url) throw SendApiErrors.invalid('param message[attachment][payload][url] is required');
    const id = numericId();
    await this.db.query(`INSERT INTO message_attachments (id, page_id, app_id, type, url) VALUES ($1, $2, $3, $4, $5)`, [
      id,
      pageId,
      appId,
      att.type,
      att.payload.url,
    ]);
    return { attachment_id: id };
  }

  // Another Page's id is as unknown as a made-up one.
  async resolve(pageId: string, attachmentId: string): Promise<ResolvedAttachment> {
    if (!/^\d{1,20}$/.test(attachmentId)) throw SendApiErrors.unknownAttachment(attachmentId);
    const rows: ResolvedAttachment[] = await this.db.query(
      `SELECT id, type, url FROM message_attachments WHERE id = $1 AND page_id = $2`,
      [attachmentId, pageId],
    );
    if (!rows[0]) throw SendApiErrors.unknownAttachment(attachmentId);
    return rows[0];
  }
}
