import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { MEDIA_ATTACHMENT_TYPES, nestBracketParams, parseGraphParams, toBooleanish, validateMessageContent } from '../../libs/templates';
import type { MessageContent } from '../../libs/templates';
import { numericId } from '../common/crypto/tokens';
import { AppException } from '../common/errors/app.exception';
import { pipeToNewFile } from '../common/fs/pipe-to-new-file';
import { multipartParts } from '../common/http/multipart-lead';
import { GraphException } from '../common/errors/graph.exception';
import { toHttpError } from '../media/media.errors';
import { MediaRecord, MediaService } from '../media/media.service';
import { SendApiErrors } from './send-api.errors';

export interface ResolvedAttachment {
  id: string;
  type: string;
  url: string;
  // Set when the bytes went through the media pipeline: readers get signed URLs minted from it.
  media_id: string | null;
}

// Stands for a file not stored yet when a multipart send is checked before storing it.
const PRECHECK_ATTACHMENT_ID = '1';

// The Attachment Upload API. A URL or an uploaded file (multipart field "filedata") goes through the media
// pipeline (type from the bytes, images re-encoded, stored once per SHA-256); the attachment id names the result.
@Injectable()
export class AttachmentsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly media: MediaService,
  ) {}

  // `{message:{attachment:{type, payload:{url, is_reusable}}}}` (Graph's shape; a bare `attachment` is taken too).
  async upload(pageId: string, appId: string | null, params: Record<string, unknown>): Promise<{ attachment_id: string }> {
    const att = this.parse(params, false);
    const rec = await graphErrors(() => this.media.ingestFromUrl(att.payload!.url!, { pageId }));
    return this.store(pageId, appId, att.type, att.payload!.url!, rec);
  }

  // Graph's file upload: multipart with a `message` field (JSON) and the `filedata` file, streamed.
  async uploadMultipart(pageId: string, appId: string | null, req: FastifyRequest): Promise<{ attachment_id: string }> {
    const { attachment } = await this.readMultipart(pageId, appId, req);
    if (!attachment) throw SendApiErrors.invalid('param filedata is required');
    return { attachment_id: attachment.id };
  }

  // The Send API called with multipart, as Graph takes it: the fields are its params, and a file in `filedata`
  // is stored first (a reusable attachment, like an upload), the message then naming it by attachment_id.
  // `precheck` is shown the call as it will be (the file as attachment id `PRECHECK_ATTACHMENT_ID`) before the file
  // is stored: it refuses what the send would refuse, and answers false when the file need not be stored (a replay).
  async multipartSendParams(
    pageId: string,
    appId: string | null,
    req: FastifyRequest,
    precheck: (params: Record<string, unknown>) => Promise<boolean>,
  ): Promise<Record<string, unknown>> {
    // is_reusable is kept: the answer then carries the attachment_id, as Graph's does.
    const withFile = (fields: Record<string, unknown>, type: string, id: string) => {
      const parsed = parseGraphParams(fields, ['message']);
      const message = (parsed.ok && parsed.value.message && typeof parsed.value.message === 'object' ? parsed.value.message : {}) as {
        attachment?: { payload?: { is_reusable?: unknown } };
      };
      const reusable = toBooleanish(message.attachment?.payload?.is_reusable) === true ? { is_reusable: true } : {};
      return { ...fields, message: { ...message, attachment: { type, payload: { attachment_id: id, ...reusable } } } };
    };
    const { fields, attachment } = await this.readMultipart(pageId, appId, req, (f, type) => precheck(withFile(f, type, PRECHECK_ATTACHMENT_ID)));
    return attachment ? withFile(fields, attachment.type, attachment.id) : fields;
  }

  // The fields of a multipart body and the file of its first `filedata` part, streamed into storage. Graph reads the
  // whole form, so a file that comes before the fields it is checked by (`message`, and a send's `recipient`:
  // Bottender appends recipient and messaging_type after filedata) waits in a spool file until they are read.
  // Bracketed names (`message[attachment][type]`, as Facebook's PHP SDK writes nested params in multipart) are
  // nested, as in a form. The body's own faults (a boundary busboy refuses, an upload cut short) surface from the
  // parts iterator, and are 400s.
  private readMultipart(
    pageId: string,
    appId: string | null,
    req: FastifyRequest,
    beforeFile?: (fields: Record<string, unknown>, type: string) => Promise<boolean>,
  ): Promise<{ fields: Record<string, unknown>; attachment?: { id: string; type: string } }> {
    return graphErrors(async () => {
      let spool: { path: string; mimetype: string; stream?: Readable } | undefined;
      try {
        const raw: Record<string, unknown> = {};
        const fields = () => nestBracketParams(raw);
        let attachment: { id: string; type: string } | undefined;
        let fileSeen = false;
        for await (const part of multipartParts(req)) {
          // Fields are checked where they are parsed (parseGraphParams), before a file is stored.
          if (part.type === 'field') Object.defineProperty(raw, part.fieldname, { value: part.value, enumerable: true, writable: true, configurable: true });
          else if (part.fieldname !== 'filedata' || fileSeen) part.file.resume();
          else {
            fileSeen = true;
            const known = fields();
            if (!('message' in known) || (beforeFile && !('recipient' in known))) {
              spool = { path: path.join(this.media.storage.tempDir, `multipart-${randomUUID()}.part`), mimetype: part.mimetype };
              await fs.mkdir(this.media.storage.tempDir, { recursive: true });
              await pipeToNewFile(part.file, spool.path);
            } else {
              attachment = await this.storeFile(pageId, appId, known, part, beforeFile);
            }
          }
        }
        if (spool) {
          spool.stream = createReadStream(spool.path);
          attachment = await this.storeFile(pageId, appId, fields(), { file: spool.stream, mimetype: spool.mimetype }, beforeFile);
        }
        return { fields: fields(), attachment };
      } catch (err) {
        throw toHttpError(err, this.media.maxBytes);
      } finally {
        if (spool) {
          spool.stream?.destroy();
          await fs.rm(spool.path, { force: true });
        }
      }
    });
  }

  // The `message` field names the file's type; the bytes say what it is.
  private async storeFile(
    pageId: string,
    appId: string | null,
    fields: Record<string, unknown>,
    part: Pick<MultipartFile, 'mimetype'> & { file: Readable },
    beforeFile?: (fields: Record<string, unknown>, type: string) => Promise<boolean>,
  ): Promise<{ id: string; type: string } | undefined> {
    let att;
    try {
      att = this.parse(fields, true);
      if (beforeFile && !(await beforeFile(fields, att.type))) {
        part.file.resume();
        return undefined;
      }
    } catch (err) {
      part.file.resume();
      throw err;
    }
    const rec = await graphErrors(async () => {
      try {
        return await this.media.ingestStream(part.file, { pageId }, { declaredType: part.mimetype });
      } finally {
        part.file.resume();
      }
    });
    const { attachment_id } = await this.store(pageId, appId, att.type, null, rec);
    return { id: attachment_id, type: att.type };
  }

  private parse(params: Record<string, unknown>, file: boolean): { type: string; payload?: { url?: string } } {
    const parsed = parseGraphParams(params, ['message', 'attachment']);
    if (!parsed.ok) throw SendApiErrors.invalid(parsed.error.message);
    const raw = parsed.value.message ?? (parsed.value.attachment !== undefined ? { attachment: parsed.value.attachment } : undefined);
    if (raw === undefined) throw SendApiErrors.invalid('param message is required');
    const att = (raw as { attachment?: { type: string; payload?: { url?: string } } }).attachment;
    if (!att || typeof att !== 'object') throw SendApiErrors.invalid('param message[attachment] is required');
    if (!(MEDIA_ATTACHMENT_TYPES as readonly string[]).includes(att.type)) {
      throw SendApiErrors.invalid(`param message[attachment][type] must be one of [${MEDIA_ATTACHMENT_TYPES.join(', ')}]`);
    }
    if (file) return att;
    const valid = validateMessageContent(raw);
    if (!valid.ok) throw SendApiErrors.invalid(valid.error.message);
    if (!att.payload?.url) throw SendApiErrors.invalid('param message[attachment][payload][url] is required');
    return att;
  }

  private async store(pageId: string, appId: string | null, type: string, url: string | null, rec: MediaRecord) {
    this.checkType(type, rec);
    return { attachment_id: await this.insertAttachment(pageId, appId, type, url, rec) };
  }

  // The type is read from the bytes; a bot that calls a PDF an image is told so (the row it made is an orphan).
  private checkType(type: string, rec: MediaRecord): void {
    if (type !== rec.kind) {
      throw SendApiErrors.invalid(`param message[attachment][type] is ${type} but the content is ${rec.kind === 'file' ? 'a file' : `${rec.kind === 'audio' ? 'audio' : `an ${rec.kind}`}`} (${rec.mime})`);
    }
  }

  private async insertAttachment(pageId: string, appId: string | null, type: string, url: string | null, rec: MediaRecord): Promise<string> {
    const id = numericId();
    await this.db.query(`INSERT INTO message_attachments (id, page_id, app_id, type, url, media_id) VALUES ($1, $2, $3, $4, $5, $6)`, [
      id,
      pageId,
      appId,
      type,
      url ?? `media:${rec.id}`,
      rec.id,
    ]);
    return id;
  }

  // A Send API message's attachment, made ready to store. `attachment_id` (an upload) becomes the URL the person's
  // client loads, the id beside it; a plain `url` is fetched like an upload by URL and sent as stored media, so
  // the person and the echo get our signed URLs, never the bot's; with `is_reusable` it also gets an attachment_id
  // (answered beside message_id, as Graph does). Runs before the message's transaction.
  async forSend(pageId: string, appId: string | null, message: MessageContent): Promise<{ message: MessageContent; attachmentId?: string }> {
    const att = message.attachment as { type: string; payload: Record<string, unknown> } | undefined;
    if (!att) return { message };
    if (att.type !== 'template' && typeof att.payload?.attachment_id === 'string') {
      const found = await this.resolve(pageId, att.payload.attachment_id);
      // A media-backed upload keeps its media_id: each reader gets a freshly signed URL (src/media).
      const { is_reusable: reusable, ...kept } = att.payload;
      const payload = { ...kept, url: found.url, ...(found.media_id ? { media_id: found.media_id } : {}) };
      // A file sent with its upload (multipart filedata, is_reusable): the answer names the attachment made for it.
      const attachmentId = reusable === true ? att.payload.attachment_id : undefined;
      return { message: { ...message, attachment: { ...att, payload } } as MessageContent, attachmentId };
    }
    if (att.type !== 'template' && typeof att.payload?.url === 'string') {
      const url = att.payload.url;
      const rec = await graphErrors(() => this.media.ingestFromUrl(url, { pageId }));
      this.checkType(att.type, rec);
      await this.media.markReferenced(rec.id);
      const reusable = att.payload.is_reusable === true;
      const attachmentId = reusable ? await this.insertAttachment(pageId, appId, att.type, url, rec) : undefined;
      // The bot's URL is not kept in the message: readers get URLs minted from media_id.
      const payload = { url: this.media.url(rec.id, rec.kind === 'image' ? 'display.jpg' : 'original'), media_id: rec.id };
      return { message: { ...message, attachment: { ...att, payload } } as MessageContent, attachmentId };
    }
    const payload = att.payload as { template_type?: string; elements?: Record<string, unknown>[] };
    if (att.type === 'template' && payload.template_type === 'media' && payload.elements) {
      const elements = await Promise.all(
        payload.elements.map(async (el) =>
          typeof el.attachment_id === 'string' ? await this.resolveElement(pageId, el, el.attachment_id) : el,
        ),
      );
      return { message: { ...message, attachment: { ...att, payload: { ...payload, elements } } } as MessageContent };
    }
    return { message };
  }

  // media_id beside the URL: each reader gets a freshly signed URL (messaging-items), not this one, which expires.
  private async resolveElement(pageId: string, el: Record<string, unknown>, attachmentId: string) {
    const found = await this.resolve(pageId, attachmentId);
    return { ...el, url: found.url, ...(found.media_id ? { media_id: found.media_id } : {}) };
  }

  // Another Page's id is as unknown as a made-up one. A media-backed attachment answers a freshly signed URL.
  async resolve(pageId: string, attachmentId: string): Promise<ResolvedAttachment> {
    if (!/^\d{1,20}$/.test(attachmentId)) throw SendApiErrors.unknownAttachment(attachmentId);
    const rows: ResolvedAttachment[] = await this.db.query(
      `SELECT id, type, url, media_id FROM message_attachments WHERE id = $1 AND page_id = $2`,
      [attachmentId, pageId],
    );
    const found = rows[0];
    if (!found) throw SendApiErrors.unknownAttachment(attachmentId);
    if (found.media_id) {
      found.url = this.media.url(found.media_id, found.type === 'image' ? 'display.jpg' : 'original');
      await this.media.markReferenced(found.media_id);
    }
    return found;
  }
}

// Graph's "Failed to fetch the file from the url".
const FETCH_FAILED_SUBCODE = 2018008;

// Media refusals (413, 400) in Graph's envelope.
export async function graphErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppException) {
      const status = err.status === HttpStatus.PAYLOAD_TOO_LARGE ? HttpStatus.PAYLOAD_TOO_LARGE : HttpStatus.BAD_REQUEST;
      const subcode = err.code === 'MEDIA.URL_FETCH_FAILED' ? FETCH_FAILED_SUBCODE : undefined;
      throw new GraphException(`(#100) ${err.message}`, 100, status, 'OAuthException', subcode, { 'x-media-error': err.code });
    }
    throw err;
  }
}
