import { Readable } from 'node:stream';
import { assertMetadataRemovable, MediaKind } from './detect-type';
import { DEFAULT_IMAGE_OPTIONS, ImageProcessingOptions, processImage } from './image-processor';
import { ingest, IngestedFile } from './ingest';
import { probeDurationMs } from './media-duration';
import { MediaError, MediaErrorCode } from './media.errors';
import { mediaKey, MediaStorage } from '../storage/media-storage';

export interface ProcessUploadOptions {
  maxBytes: number;
  // A lower cap for images (a bot's URL fetch).
  imageMaxBytes?: number;
  declaredType?: string;
  // Images only: also store the upload byte for byte (EXIF and all) as variant "original".
  keepOriginal?: boolean;
  // Called with the result while the spool still exists (the caller records it, e.g. a row under a lock).
  // Answering false says the stored objects vanished meanwhile (garbage collection of the same hash): they are
  // encoded again from the spool and committed once more.
  commit?: (p: ProcessedMedia) => Promise<boolean>;
}

export interface MediaVariant {
  name: string;
  key: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
}

export interface ProcessedMedia {
  sha256: string;
  kind: MediaKind;
  // Detected from the bytes; application/octet-stream when no format was recognised.
  mime: string;
  size: number;
  variants: MediaVariant[];
  // Video and audio only; null when the container gives no duration we can read without ffmpeg.
  durationMs?: number | null;
  // Images only, after auto-orientation (one frame for animations).
  width?: number;
  height?: number;
  animated?: boolean;
  // True when this hash had already been processed and nothing was encoded or written.
  deduplicated: boolean;
}

export interface MediaProcessorOptions {
  image?: Partial<ImageProcessingOptions>;
}

interface Manifest {
  v: 1;
  // Encoding settings that produced the variants; a change re-encodes on the next upload of the hash.
  profile: string;
  sha256: string;
  kind: MediaKind;
  mime: string;
  size: number;
  variants: MediaVariant[];
  durationMs?: number | null;
  width?: number;
  height?: number;
  animated?: boolean;
}

const MANIFEST = 'manifest.json';
const ORIGINAL = 'original';

// The Nest-free core behind uploads: ingest (spool + hash + detect), process, store once per hash.
// Storage is keyed by the SHA-256 of the uploaded bytes; manifest.json is written last, so its
// presence means every variant it lists was fully stored.
export class MediaProcessor {
  private readonly image: ImageProcessingOptions;
  private readonly profile: string;

  constructor(
    private readonly storage: MediaStorage,
    opts: MediaProcessorOptions = {},
  ) {
    this.image = { ...DEFAULT_IMAGE_OPTIONS, ...opts.image };
    const i = this.image;
    this.profile = `d${i.displayMaxSide}-t${i.thumbMaxSide}-w${i.webpQuality}-j${i.jpegQuality}`;
  }

  async processUpload(stream: Readable, opts: ProcessUploadOptions): Promise<ProcessedMedia> {
    const upload = await ingest(stream, {
      maxBytes: opts.maxBytes,
      imageMaxBytes: opts.imageMaxBytes,
      declaredType: opts.declaredType,
      tempDir: this.storage.tempDir,
    });
    try {
      assertMetadataRemovable(upload.type);
      const keepOriginal = upload.type.kind !== 'image' || !!opts.keepOriginal;
      const result = await this.store(upload, keepOriginal);
      if (!opts.commit || (await opts.commit(result))) return result;
      const again = this.present(await this.processFresh(upload, keepOriginal, null), keepOriginal, false);
      if (await opts.commit(again)) return again;
      throw new MediaError(MediaErrorCode.Storage, `the stored objects of ${upload.sha256} vanished twice while committing`);
    } finally {
      await upload.cleanup();
    }
  }

  // Garbage collection of a hash no row references any more: the manifest goes first, so no upload dedups onto
  // a half-deleted set (a later upload of the same bytes is encoded afresh). `known` adds keys a row listed.
  async removeStored(sha256: string, known: string[] = []): Promise<void> {
    const manifest = await this.readManifest(sha256).catch(() => null);
    const keys = new Set([...(manifest?.variants.map((v) => v.key) ?? []), ...known]);
    await this.storage.delete(mediaKey(sha256, MANIFEST));
    await Promise.all([...keys].map((k) => this.storage.delete(k)));
  }

  // True when every variant a result lists is in storage at its size.
  async isStored(p: Pick<ProcessedMedia, 'variants'>): Promise<boolean> {
    return this.allStored(p);
  }

  private async store(upload: IngestedFile, keepOriginal: boolean): Promise<ProcessedMedia> {
    const existing = await this.readManifest(upload.sha256);
    if (existing && existing.profile === this.profile && (await this.allStored(existing))) {
      if (keepOriginal && !existing.variants.some((v) => v.name === ORIGINAL)) {
        existing.variants.push(await this.putOriginal(upload, existing.width, existing.height));
        await this.writeManifest(existing);
      }
      return this.present(existing, keepOriginal, true);
    }
    return this.present(await this.processFresh(upload, keepOriginal, existing), keepOriginal, false);
  }

  private async processFresh(upload: IngestedFile, keepOriginal: boolean, previous: Manifest | null): Promise<Manifest> {
    const { sha256, type } = upload;
    const manifest: Manifest = { v: 1, profile: this.profile, sha256, kind: type.kind, mime: type.mime, size: upload.size, variants: [] };
    // Encode everything before the first write: a corrupt image leaves nothing in storage.
    const img = type.kind === 'image' ? await processImage(upload.path, this.image) : null;
    try {
      if (img) {
        Object.assign(manifest, { width: img.width, height: img.height, animated: img.animated });
        for (const v of img.variants) {
          const key = mediaKey(sha256, v.name);
          await this.storage.put(key, v.data, { contentType: v.mime });
          manifest.variants.push({ name: v.name, key, mime: v.mime, size: v.data.length, width: v.width, height: v.height });
        }
        if (keepOriginal) manifest.variants.push(await this.putOriginal(upload, img.width, img.height));
        else {
          // Re-encoding under a new profile must not orphan an original an earlier upload kept.
          const kept = previous?.variants.find((v) => v.name === ORIGINAL);
          if (kept && (await this.storage.exists(kept.key))) manifest.variants.push(kept);
        }
      } else {
        manifest.variants.push(await this.putOriginal(upload));
        if (type.kind === 'video' || type.kind === 'audio') manifest.durationMs = await probeDurationMs(upload.path, type.mime);
      }
      await this.writeManifest(manifest);
      return manifest;
    } catch (err) {
      // Best effort: without a manifest, what this call wrote is unreachable garbage.
      if (!(await this.storage.exists(mediaKey(sha256, MANIFEST)).catch(() => true))) {
        await Promise.allSettled(manifest.variants.map((v) => this.storage.delete(v.key)));
      }
      throw err;
    }
  }

  private async putOriginal(upload: IngestedFile, width?: number, height?: number): Promise<MediaVariant> {
    const key = mediaKey(upload.sha256, ORIGINAL);
    await this.storage.put(key, { file: upload.path }, { contentType: upload.type.mime });
    return { name: ORIGINAL, key, mime: upload.type.mime, size: upload.size, ...(width ? { width, height } : {}) };
  }

  private present(m: Manifest, keepOriginal: boolean, deduplicated: boolean): ProcessedMedia {
    const variants = m.variants.filter((v) => keepOriginal || v.name !== ORIGINAL);
    const out: ProcessedMedia = { sha256: m.sha256, kind: m.kind, mime: m.mime, size: m.size, variants, deduplicated };
    if (m.kind === 'video' || m.kind === 'audio') out.durationMs = m.durationMs ?? null;
    if (m.kind === 'image') Object.assign(out, { width: m.width, height: m.height, animated: m.animated });
    return out;
  }

  private async readManifest(sha256: string): Promise<Manifest | null> {
    const key = mediaKey(sha256, MANIFEST);
    let stream: Readable;
    try {
      stream = await this.storage.get(key);
    } catch (err) {
      if (err instanceof MediaError && err.code === MediaErrorCode.NotFound) return null;
      throw err;
    }
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    try {
      const m = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Manifest;
      return m.v === 1 && m.sha256 === sha256 && Array.isArray(m.variants) ? m : null;
    } catch {
      return null;
    }
  }

  private async allStored(m: Pick<Manifest, 'variants'>): Promise<boolean> {
    const stats = await Promise.all(m.variants.map((v) => this.storage.stat(v.key)));
    return stats.every((s, i) => s !== null && s.size === m.variants[i].size);
  }

  private async writeManifest(m: Manifest): Promise<void> {
    await this.storage.put(mediaKey(m.sha256, MANIFEST), Buffer.from(JSON.stringify(m)), { contentType: 'application/json' });
  }
}
