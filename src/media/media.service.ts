import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import type { SafeHttpClient } from '../../libs/safe-http';
import { numericId } from '../common/crypto/tokens';
import { badRequest } from '../common/errors/app.exception';
import { AppConfig } from '../config/app-config';
import { OUTBOUND_HTTP } from '../infra/http/outbound-http';
import { detectType, MediaError, MediaErrorCode, MediaKind, MediaProcessor, MediaVariant, ProcessedMedia } from './processing';
import { MediaStorage, removeStaleTempFiles } from './storage';
import { MediaErrors, toHttpError } from './media.errors';
import { MediaUrlSigner } from './media-url-signer';

export const MEDIA_STORAGE = Symbol('MEDIA_STORAGE');
export const MEDIA_URL_SIGNER = Symbol('MEDIA_URL_SIGNER');

export interface MediaRecord {
  id: string;
  sha256: string;
  kind: MediaKind;
  mime: string;
  size: number;
  variants: MediaVariant[];
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  page_id: string;
  thread_id: string | null;
}

export interface MediaOwner {
  pageId: string;
  // A person's upload belongs to their thread; a bot's to the page.
  threadId?: string | null;
}

// What a stored message holds per attachment: ids and facts, never URLs (those are minted per reader).
export interface StoredAttachment {
  type: MediaKind;
  payload: { media_id: string; width?: number; height?: number; duration_ms?: number; size?: number; mime?: string };
}

// The variant a bot's webhook links to, and what the person's client shows first then full size.
const DISPLAY = 'display.jpg';
const PERSON_FULL = 'display.webp';
const PERSON_THUMB = 'thumb.webp';
const ORIGINAL = 'original';

const COLUMNS = 'id, sha256, kind, mime, size, variants, width, height, duration_ms, page_id, thread_id';

@Injectable()
export class MediaService implements OnModuleInit {
  private readonly logger = new Logger('Media');
  private readonly processor: MediaProcessor;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly config: AppConfig,
    @Inject(MEDIA_STORAGE) readonly storage: MediaStorage,
    @Inject(MEDIA_URL_SIGNER) private readonly signer: MediaUrlSigner,
    @Inject(OUTBOUND_HTTP) private readonly http: SafeHttpClient,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    this.processor = new MediaProcessor(storage);
  }

  async onModuleInit(): Promise<void> {
    // Every error path removes its own spool file; a killed process may have left some.
    const removed = await removeStaleTempFiles(this.storage.tempDir).catch(() => 0);
    if (removed) this.logger.log(`removed ${removed} stale media temp files`);
  }

  get maxBytes(): number {
    return this.config.env.MEDIA_MAX_BYTES;
  }

  // --- ingestion: the whole pipeline, then one row. No transaction is open while bytes stream. ---

  async ingestStream(stream: Readable, owner: MediaOwner, opts: { maxBytes?: number; declaredType?: string } = {}): Promise<MediaRecord> {
    const maxBytes = opts.maxBytes ?? this.maxBytes;
    let processed: ProcessedMedia;
    try {
      processed = await this.processor.processUpload(stream, {
        maxBytes,
        declaredType: opts.declaredType,
        keepOriginal: this.config.env.MEDIA_KEEP_ORIGINAL,
      });
    } catch (err) {
      throw toHttpError(err, maxBytes);
    }
    return this.insert(processed, owner);
  }

  // A person's multipart upload (field "file"). The request body is streamed straight into the pipeline.
  async ingestMultipart(req: FastifyRequest, owner: MediaOwner): Promise<MediaRecord> {
    if (!req.isMultipart?.()) throw MediaErrors.notMultipart();
    let part;
    try {
      part = await req.file();
    } catch (err) {
      throw toHttpError(err, this.maxBytes);
    }
    if (!part || part.type !== 'file') throw MediaErrors.notMultipart();
    try {
      return await this.ingestStream(part.file, owner, { declaredType: part.mimetype });
    } finally {
      // Whatever was not read (a refusal mid-stream) is drained so the client gets our answer, not a reset.
      part.file.resume();
    }
  }

  // A bot's URL: fetched through the SSRF-safe client (private addresses refused unless allow-listed).
  // Images are held to MEDIA_URL_IMAGE_MAX_BYTES, anything else to MEDIA_MAX_BYTES.
  async ingestFromUrl(url: string, owner: MediaOwner, opts: { maxBytes?: number } = {}): Promise<MediaRecord> {
    const maxBytes = opts.maxBytes ?? this.maxBytes;
    let body: Buffer;
    try {
      const res = await this.http.request({ url, maxResponseBytes: maxBytes, onOversize: 'error', timeoutMs: 30_000 });
      if (res.status < 200 || res.status > 299) {
        throw new MediaError(MediaErrorCode.NotFound, `GET ${new URL(url).host} answered ${res.status}`);
      }
      body = res.body;
    } catch (err) {
      if (err instanceof MediaError) throw badRequest('MEDIA.URL_FETCH_FAILED', err.reason);
      throw toHttpError(err, maxBytes);
    }
    const imageCap = Math.min(maxBytes, this.config.env.MEDIA_URL_IMAGE_MAX_BYTES);
    const type = await detectType(body.subarray(0, 4100));
    if (type.kind === 'image' && body.length > imageCap) {
      throw toHttpError(new MediaError(MediaErrorCode.TooLarge, 'image too large'), imageCap);
    }
    return this.ingestStream(Readable.from([body]), owner, { maxBytes });
  }

  private async insert(p: ProcessedMedia, owner: MediaOwner): Promise<MediaRecord> {
    const rec: MediaRecord = {
      id: numericId(),
      sha256: p.sha256,
      kind: p.kind,
      mime: p.mime,
      size: p.size,
      variants: p.variants,
      width: p.width ?? null,
      height: p.height ?? null,
      duration_ms: p.durationMs ?? null,
      page_id: owner.pageId,
      thread_id: owner.threadId ?? null,
    };
    await this.db.query(
      `INSERT INTO media_objects (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)`,
      [rec.id, rec.sha256, rec.kind, rec.mime, rec.size, JSON.stringify(rec.variants), rec.width, rec.height, rec.duration_ms, rec.page_id, rec.thread_id],
    );
    return rec;
  }

  async findById(id: string): Promise<MediaRecord | null> {
    if (!/^\d{1,20}$/.test(id)) return null;
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM media_objects WHERE id = $1`, [id]);
    return rows[0] ? { ...rows[0], size: Number(rows[0].size) } : null;
  }

  // --- messages: what a stored message keeps, and the URLs each reader gets ---

  // The thread's own uploads, or the page's bot uploads, turned into stored attachments (in the order given).
  async attachmentsFor(ids: string[], owner: { pageId: string; threadId: string }): Promise<StoredAttachment[]> {
    if (!ids.length) return [];
    const rows: MediaRecord[] = ids.every((id) => /^\d{1,20}$/.test(id))
      ? await this.db.query(
          `SELECT ${COLUMNS} FROM media_objects WHERE id = ANY($1) AND page_id = $2 AND (thread_id = $3 OR thread_id IS NULL)`,
          [ids, owner.pageId, owner.threadId],
        )
      : [];
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length) throw MediaErrors.unknownAttachment(missing);
    return ids.map((id) => toStoredAttachment(byId.get(id)!));
  }

  // Messenger's webhook shape: {type, payload:{url}}, the URL signed and expiring. Attachments without a
  // media_id (a bot's plain URL) pass through as they are.
  forWebhook(attachments: unknown[], baseUrl?: string): unknown[] {
    return attachments.map((a) => {
      const att = a as StoredAttachment;
      if (typeof att?.payload?.media_id !== 'string') return a;
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { media_id, width, height, duration_ms, size, mime, ...rest } = att.payload as StoredAttachment['payload'] & Record<string, unknown>;
      return { type: att.type, payload: { ...rest, url: this.url(media_id, att.type === 'image' ? DISPLAY : ORIGINAL, baseUrl) } };
    });
  }

  // The person's client: the thumbnail first, then the full display variant, with sizes to lay out.
  forPerson(attachments: unknown[], baseUrl?: string): unknown[] {
    return attachments.map((a) => {
      const att = a as StoredAttachment;
      if (typeof att?.payload?.media_id !== 'string') return a;
      const { media_id } = att.payload;
      const image = att.type === 'image';
      return {
        type: att.type,
        payload: {
          ...att.payload,
          url: this.url(media_id, image ? PERSON_FULL : ORIGINAL, baseUrl),
          ...(image ? { thumbnail_url: this.url(media_id, PERSON_THUMB, baseUrl) } : {}),
        },
      };
    });
  }

  url(id: string, variant: string, baseUrl?: string): string {
    const base = (this.config.env.PUBLIC_BASE_URL ?? baseUrl ?? this.listenOrigin()).replace(/\/+$/, '');
    return base + this.signer.sign(id, variant).path;
  }

  // Without PUBLIC_BASE_URL or a request (a bot's echo, a hosted script): where this process listens.
  private listenOrigin(): string {
    const { env } = this.config;
    const server = this.adapterHost?.httpAdapter?.getHttpServer?.() as { address(): unknown } | undefined;
    const address = server?.address?.() as { port?: number } | null | undefined;
    const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
    return `${env.TLS_CERT_FILE ? 'https' : 'http'}://${host}:${address?.port ?? env.PORT}`;
  }

  verify(id: string, variant: string, exp: unknown, sig: unknown): void {
    const verdict = this.signer.verify(id, variant, exp, sig);
    if (verdict !== 'ok') throw MediaErrors.forbidden(verdict);
  }
}

function toStoredAttachment(r: MediaRecord): StoredAttachment {
  const payload: StoredAttachment['payload'] = { media_id: r.id, mime: r.mime, size: Number(r.size) };
  if (r.width) Object.assign(payload, { width: r.width, height: r.height });
  if (r.duration_ms != null) payload.duration_ms = r.duration_ms;
  return { type: r.kind, payload };
}

// The origin a request came to, for absolute URLs when PUBLIC_BASE_URL is unset.
export function requestOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}
