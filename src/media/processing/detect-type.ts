import type { Readable } from 'node:stream';
import * as FileType from 'file-type';
import sharp from 'sharp';
import { MediaError, MediaErrorCode } from './media.errors';

// Types come from the bytes (magic numbers via file-type), never from a file name or a header.

export type MediaKind = 'image' | 'video' | 'audio' | 'file';

export interface DetectedType {
  mime: string;
  ext: string;
  kind: MediaKind;
}

// file-type decides from at most this many leading bytes.
export const DETECT_HEAD_BYTES = 4100;

export const UNKNOWN_TYPE: DetectedType = { mime: 'application/octet-stream', ext: 'bin', kind: 'file' };

// Decoded and re-encoded (metadata dropped). TIFF too: it carries EXIF and GPS like a camera JPEG does.
const IMAGE_INPUTS = new Set(['image/jpeg', 'image/png', 'image/apng', 'image/webp', 'image/gif', 'image/avif', 'image/tiff']);
const HEIF_INPUTS = new Set(['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence']);

// The prebuilt libvips in sharp decodes AVIF but not HEVC-coded HEIC (patents); a libvips built
// with libde265 lists .heic here.
export function heicDecodingSupported(): boolean {
  return sharp.format.heif?.input?.fileSuffix?.includes('.heic') ?? false;
}

// A photo this sharp can't re-encode would be stored and served byte for byte, EXIF and GPS included (HEIC is the
// iPhone's default): refused instead, naming what works. With a HEIC-capable libvips it is an image like any other.
export function assertMetadataRemovable(type: DetectedType): void {
  if (HEIF_INPUTS.has(type.mime) && type.kind !== 'image') {
    throw new MediaError(
      MediaErrorCode.UnsupportedImage,
      `${type.mime} images can't be re-encoded here, so their EXIF and GPS metadata can't be removed: send JPEG, PNG, WebP or AVIF`,
    );
  }
}

export function classify(mime: string): MediaKind {
  if (IMAGE_INPUTS.has(mime)) return 'image';
  if (HEIF_INPUTS.has(mime)) return heicDecodingSupported() ? 'image' : 'file';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}

// Given a stream, reads (and consumes) at most DETECT_HEAD_BYTES, then destroys it: meant for a
// probe such as storage.get(key, { end: DETECT_HEAD_BYTES - 1 }). file-type's own fromStream is
// not used because it misreads object-mode streams (one read() = one chunk, whatever its size).
export async function detectType(input: Uint8Array | Readable): Promise<DetectedType> {
  const head = input instanceof Uint8Array ? input : await readHead(input);
  let found: FileType.FileTypeResult | undefined;
  try {
    found = await FileType.fromBuffer(head);
  } catch (err) {
    // file-type 16 lets strtok3's EndOfStreamError escape (a missing await in fromTokenizer) when a
    // signature's structure runs past the bytes it was given, e.g. a malformed EBML header.
    if ((err as Error)?.name === 'EndOfStreamError' || (err as Error)?.message === 'End-Of-Stream') return UNKNOWN_TYPE;
    throw err;
  }
  if (!found) return UNKNOWN_TYPE;
  return { mime: found.mime, ext: found.ext, kind: classify(found.mime) };
}

async function readHead(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(b);
    length += b.length;
    if (length >= DETECT_HEAD_BYTES) break;
  }
  return Buffer.concat(chunks, length).subarray(0, DETECT_HEAD_BYTES);
}

// Names for the same container or codec family; a declaration inside the detected family is not a lie.
const FAMILIES: string[][] = [
  ['image/jpeg', 'image/jpg', 'image/pjpeg'],
  ['image/png', 'image/x-png', 'image/apng'],
  ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'],
  ['video/mp4', 'audio/mp4', 'audio/x-m4a', 'audio/m4a', 'video/x-m4v', 'video/quicktime', 'application/mp4'],
  ['video/3gpp', 'audio/3gpp', 'video/3gpp2', 'audio/3gpp2'],
  ['video/webm', 'audio/webm', 'video/x-matroska', 'audio/x-matroska'],
  ['audio/ogg', 'video/ogg', 'application/ogg', 'audio/opus'],
  ['audio/mpeg', 'audio/mp3', 'audio/x-mpeg', 'audio/mpeg3', 'audio/x-mp3'],
  ['audio/vnd.wave', 'audio/wav', 'audio/x-wav', 'audio/wave'],
  ['audio/x-flac', 'audio/flac'],
  ['audio/aac', 'audio/aacp', 'audio/x-aac'],
  ['application/zip', 'application/x-zip-compressed'],
];
const FAMILY_OF = new Map<string, number>();
FAMILIES.forEach((names, i) => names.forEach((n) => FAMILY_OF.set(n, i)));

const DETECTABLE = new Set<string>(require('file-type/supported').mimeTypes as string[]);

export function normalizeMime(mime: string): string {
  return mime.split(';', 1)[0].trim().toLowerCase();
}

// Nothing declared, or only "some bytes", is no claim to check.
function isNoClaim(declared: string): boolean {
  return declared === '' || declared === 'application/octet-stream' || declared === 'binary/octet-stream';
}

export function declaredMatches(declaredType: string | undefined, detected: DetectedType): boolean {
  if (declaredType === undefined) return true;
  const declared = normalizeMime(declaredType);
  if (isNoClaim(declared)) return true;
  if (detected === UNKNOWN_TYPE || detected.mime === UNKNOWN_TYPE.mime) {
    // Bytes we cannot identify may be text, CSV, JSON… but never a media type, nor a format whose
    // signature we know (a real PDF would have been recognised).
    return !/^(image|video|audio)\//.test(declared) && !DETECTABLE.has(declared) && !FAMILY_OF.has(declared);
  }
  if (declared === detected.mime) return true;
  const a = FAMILY_OF.get(declared);
  return a !== undefined && a === FAMILY_OF.get(detected.mime);
}

export function assertDeclaredType(declaredType: string | undefined, detected: DetectedType): void {
  if (!declaredMatches(declaredType, detected)) {
    throw new MediaError(
      MediaErrorCode.TypeMismatch,
      `declared ${normalizeMime(declaredType ?? '')} but the bytes are ${detected === UNKNOWN_TYPE ? 'not a known format' : detected.mime}`,
    );
  }
}
