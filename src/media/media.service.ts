import { innerRequest } from '../common/http/inner-request';
import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import type { SafeHttpClient, SafeHttpStreamResponse } from '../../libs/safe-http';
import { numericId } from '../common/crypto/tokens';
import { AppConfig } from '../config/app-config';
import { OUTBOUND_HTTP } from '../infra/http/outbound-http';
import { MediaKind, MediaProcessor, MediaVariant, ProcessedMedia } from './processing';
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

export interface IngestOptions {
  maxBytes?: number;
  declaredType?: string;
}

// What a stored message holds per attachment: ids and facts, never URLs (those are minted per reader).
export interface StoredAttachment {
  type: MediaKind;
  payload: { media_id: string; width?: number; height?: number; duration_ms?: number; size?: number; mime?: string };
}

// One attachment of a message as Graph's Message node gives it.
export interface GraphAttachment {
  id: string;
  mime_type?: string;
  size?: number;
  image_data?: { width?: number; height?: number; max_width?: number; max_height?: number; url: string; preview_url: string };
  video_data?: { width?: number; height?: number; length?: number; url: string };
  file_url?: string;
}

// The variant a bot's webhook links to, and what the person's client shows first then full size.
const DISPLAY = 'display.jpg';
const PERSON_FULL = 'display.webp';
const PERSON_THUMB = 'thumb.webp';
const ORIGINAL = 'original';

const COLUMNS = 'id, sha256, kind, mime, size, variants, width, height, duration_ms, page_id, thread_id';

// pg_advisory_xact_lock(namespace, key) per content hash: an insert and the orphan collector's delete of the same
// bytes take turns, so a row never points at objects the collector is removing.
const HASH_LOCK_NAMESPACE = 0x6d656469; // "medi"
const hashLock = (sha256: string): [number, number] => [HASH_LOCK_NAMESPACE, parseInt(sha256.slice(0, 8), 16) | 0];

// TypeORM answers an UPDATE or DELETE … RETURNING with [rows, count] on PostgreSQL.
const returned = <T>(result: unknown): T[] => (Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]));

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

  async ingestStream(stream: Readable, owner: MediaOwner, opts: IngestOptions & { imageMaxBytes?: number } = {}): Promise<MediaRecord> {
    const maxBytes = opts.maxBytes ?? this.maxBytes;
    let rec: MediaRecord | null = null;
    try {
      await this.processor.processUpload(stream, {
        maxBytes,
        imageMaxBytes: opts.imageMaxBytes,
        declaredType: opts.declaredType,
        keepOriginal: this.config.env.MEDIA_KEEP_ORIGINAL,
        // The row is written while the spool still exists: if a collection removed the objects meanwhile, the
        // processor encodes them again.
        commit: async (p) => (rec = await this.insert(p, owner)) !== null,
      });
    } catch (err) {
      throw toHttpError(err, maxBytes);
    }
    return rec!;
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

  // A bot's URL: fetched through the SSRF-safe client (private addresses refused unless allow-listed) and streamed
  // into the same pipeline as an upload (hashed on the way to the spool file; memory stays at a chunk). Images are
  // held to MEDIA_URL_IMAGE_MAX_BYTES once the first bytes say so, anything else to MEDIA_MAX_BYTES.
  async ingestFromUrl(url: string, owner: MediaOwner, opts: IngestOptions = {}): Promise<MediaRecord> {
    const maxBytes = opts.maxBytes ?? this.maxBytes;
    let res: SafeHttpStreamResponse;
    try {
      res = await this.http.stream({ url, maxResponseBytes: maxBytes, timeoutMs: 30_000 });
    } catch (err) {
      throw toHttpError(err, maxBytes);
    }
    if (res.status < 200 || res.status > 299) {
      res.body.destroy();
      throw MediaErrors.fetchFailed(`${new URL(url).host} answered ${res.status}`);
    }
    const imageMaxBytes = Math.min(maxBytes, this.config.env.MEDIA_URL_IMAGE_MAX_BYTES);
    return this.ingestStream(res.body, owner, { ...opts, maxBytes, imageMaxBytes });
  }

  // Under the hash's lock, unused (`referenced` false until a message takes it). A row of the same hash keeps its
  // objects alive (the collector removes them only with the last row); with none, a collection may just have
  // removed them: null says so.
  private async insert(p: ProcessedMedia, owner: MediaOwner): Promise<MediaRecord | null> {
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
    return this.db.transaction(async (m) => {
      await m.query('SELECT pg_advisory_xact_lock($1, $2)', hashLock(p.sha256));
      const [sibling] = await m.query('SELECT 1 FROM media_objects WHERE sha256 = $1 LIMIT 1', [p.sha256]);
      if (!sibling && !(await this.processor.isStored(p))) return null;
      await m.query(
        `INSERT INTO media_objects (${COLUMNS}, referenced) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11, false)`,
        [rec.id, rec.sha256, rec.kind, rec.mime, rec.size, JSON.stringify(rec.variants), rec.width, rec.height, rec.duration_ms, rec.page_id, rec.thread_id],
      );
      return rec;
    });
  }

  // --- orphans: uploads no message used ---

  // Media rows older than MEDIA_ORPHAN_TTL_SECONDS that no message used and no reusable attachment_id names are
  // deleted; a hash's stored objects go with its last row. One batch; answers what it removed.
  async collectOrphans(limit = 100): Promise<{ rows: number; hashes: number }> {
    const ttl = this.config.env.MEDIA_ORPHAN_TTL_SECONDS;
    const candidates: { id: string; sha256: string }[] = await this.db.query(
      `SELECT id, sha256 FROM media_objects m
        WHERE NOT referenced AND created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.media_id = m.id)
        ORDER BY created_at LIMIT $2`,
      [ttl, limit],
    );
    let rows = 0;
    let hashes = 0;
    for (const c of candidates) {
      await this.db.transaction(async (m) => {
        await m.query('SELECT pg_advisory_xact_lock($1, $2)', hashLock(c.sha256));
        // Checked again under the lock: a message may have used it since the scan.
        const gone = returned<{ variants: MediaVariant[] }>(
          await m.query(
            `DELETE FROM media_objects m WHERE id = $1 AND NOT referenced
               AND NOT EXISTS (SELECT 1 FROM message_attachments a WHERE a.media_id = m.id)
             RETURNING variants`,
            [c.id],
          ),
        );
        if (!gone.length) return;
        rows++;
        const [sibling] = await m.query('SELECT 1 FROM media_objects WHERE sha256 = $1 LIMIT 1', [c.sha256]);
        if (sibling) return;
        // Still under the lock, so no insert of these bytes can slip in. A failure leaves unreachable garbage,
        // never a row without its objects: the row's delete commits regardless.
        try {
          await this.processor.removeStored(c.sha256, gone[0].variants.map((v) => v.key));
          hashes++;
        } catch (err) {
          this.logger.warn(`could not remove the stored objects of ${c.sha256}: ${(err as Error).message}`);
        }
      });
    }
    return { rows, hashes };
  }

  async findById(id: string): Promise<MediaRecord | null> {
    if (!/^\d{1,20}$/.test(id)) return null;
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM media_objects WHERE id = $1`, [id]);
    return rows[0] ? { ...rows[0], size: Number(rows[0].size) } : null;
  }

  // --- messages: what a stored message keeps, and the URLs each reader gets ---

  // A bot sends a stored upload (attachment_id, or a URL it just fetched): used, the orphan collector leaves it.
  async markReferenced(id: string): Promise<void> {
    await this.db.query('UPDATE media_objects SET referenced = true WHERE id = $1 AND NOT referenced', [id]);
  }

  // What a message would store for this record, without using it (the answer to an upload).
  stored(rec: MediaRecord): StoredAttachment {
    return toStoredAttachment(rec);
  }

  // For a person's message: the thread's own uploads, turned into stored attachments (in the order given). Not the
  // Page's bot uploads (thread_id null): those include what a bot sent one person alone, and every URL of it names
  // its id, so another person of the Page could otherwise send it to themselves and get it freshly signed.
  async attachmentsFor(ids: string[], owner: { pageId: string; threadId: string }): Promise<StoredAttachment[]> {
    if (!ids.length) return [];
    // Marked used in the same statement that finds them: the orphan collector re-checks the mark under its lock.
    const rows: MediaRecord[] = ids.every((id) => /^\d{1,20}$/.test(id))
      ? returned(
          await this.db.query(
            `UPDATE media_objects SET referenced = true
              WHERE id = ANY($1) AND page_id = $2 AND thread_id = $3
              RETURNING ${COLUMNS}`,
            [ids, owner.pageId, owner.threadId],
          ),
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

  // Graph's `attachments` edge of a message (the Conversations API): each media attachment as image_data, video_data
  // or file_url, its URLs signed for a bot; a bot's plain URL as it gave it. Templates are not attachments there.
  // `idOf` names each (unique per message: one stored file may be sent in many).
  forGraph(attachments: unknown[], idOf: (index: number) => string, baseUrl?: string): GraphAttachment[] {
    const out: GraphAttachment[] = [];
    attachments.forEach((a, i) => {
      const att = a as { type?: unknown; payload?: Record<string, unknown> };
      const type = att?.type;
      if (type !== 'image' && type !== 'video' && type !== 'audio' && type !== 'file') return;
      const p = (att.payload ?? {}) as StoredAttachment['payload'] & { url?: unknown };
      const stored = typeof p.media_id === 'string';
      const url = stored ? this.url(p.media_id, type === 'image' ? DISPLAY : ORIGINAL, baseUrl) : typeof p.url === 'string' ? p.url : null;
      if (url === null) return;
      const node: GraphAttachment = { id: idOf(i) };
      if (p.mime) node.mime_type = p.mime;
      if (p.size !== undefined) node.size = p.size;
      const size = p.width && p.height ? { width: p.width, height: p.height } : {};
      if (type === 'image') {
        const preview = stored ? this.url(p.media_id, PERSON_THUMB, baseUrl) : url;
        node.image_data = { ...size, ...(p.width && p.height ? { max_width: p.width, max_height: p.height } : {}), url, preview_url: preview };
      } else if (type === 'video') {
        node.video_data = { ...size, ...(p.duration_ms !== undefined ? { length: Math.round(p.duration_ms / 1000) } : {}), url };
      } else {
        node.file_url = url;
      }
      out.push(node);
    });
    return out;
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

  // A stored event's media URLs, signed again at send time (MediaUrlSigner.resignUrls).
  resignUrls<T>(value: T): T {
    return this.signer.resignUrls(value);
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
  return innerRequest.getStore()?.origin ?? `${req.protocol}://${req.host}`;
}
