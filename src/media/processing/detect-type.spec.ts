import { Readable } from 'node:stream';
import sharp from 'sharp';
import { assertDeclaredType, assertMetadataRemovable, classify, declaredMatches, detectType, heicDecodingSupported, UNKNOWN_TYPE } from './detect-type';
import { isMediaError, MediaErrorCode } from './media.errors';
import { heicHeader, mp3Cbr, mp4WithDuration } from './testing/media-fixtures';

const pixel = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });

describe('detectType', () => {
  it('recognises every allowed image input from its bytes', async () => {
    const cases: Array<[Promise<Buffer>, string]> = [
      [pixel().jpeg().toBuffer(), 'image/jpeg'],
      [pixel().png().toBuffer(), 'image/png'],
      [pixel().webp().toBuffer(), 'image/webp'],
      [pixel().gif().toBuffer(), 'image/gif'],
      [pixel().avif().toBuffer(), 'image/avif'],
    ];
    for (const [bytes, mime] of cases) {
      expect(await detectType(await bytes)).toEqual(expect.objectContaining({ mime, kind: 'image' }));
    }
  });

  it('classifies video, audio and everything else', async () => {
    expect((await detectType(mp4WithDuration({ timescale: 1, duration: 1 }))).kind).toBe('video');
    expect((await detectType(mp3Cbr(3))).kind).toBe('audio');
    expect(await detectType(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n'))).toEqual({ mime: 'application/pdf', ext: 'pdf', kind: 'file' });
    expect(await detectType(Buffer.from('just some text'))).toBe(UNKNOWN_TYPE);
    // A broken EBML header makes file-type 16 throw; here it is just unrecognised bytes.
    expect(await detectType(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86]))).toBe(UNKNOWN_TYPE);
    expect(classify('image/tiff')).toBe('image'); // decoded and re-encoded, metadata dropped
    expect(classify('image/bmp')).toBe('file'); // not an allowed image input: stored as a file
  });

  it('classifies HEIC as an image only when this libvips can decode it; otherwise it is refused (its EXIF and GPS would stay)', async () => {
    const t = await detectType(heicHeader());
    expect(t.mime).toBe('image/heic');
    expect(t.kind).toBe(heicDecodingSupported() ? 'image' : 'file');
    if (heicDecodingSupported()) expect(() => assertMetadataRemovable(t)).not.toThrow();
    else expect(() => assertMetadataRemovable(t)).toThrow(/EXIF and GPS/);
    expect(() => assertMetadataRemovable({ mime: 'application/pdf', ext: 'pdf', kind: 'file' })).not.toThrow();
  });

  it('reads from a stream as well as from bytes', async () => {
    const png = await pixel().png().toBuffer();
    expect((await detectType(Readable.from([png.subarray(0, 5), png.subarray(5)]))).mime).toBe('image/png');
  });
});

describe('declared type vs bytes', () => {
  const png = { mime: 'image/png', ext: 'png', kind: 'image' as const };
  const m4a = { mime: 'audio/x-m4a', ext: 'm4a', kind: 'audio' as const };

  it('accepts no claim, the same type, parameters and aliases of the same family', () => {
    expect(declaredMatches(undefined, png)).toBe(true);
    expect(declaredMatches('application/octet-stream', png)).toBe(true);
    expect(declaredMatches('IMAGE/PNG; charset=binary', png)).toBe(true);
    expect(declaredMatches('audio/mp4', m4a)).toBe(true);
    expect(declaredMatches('image/jpg', { mime: 'image/jpeg', ext: 'jpg', kind: 'image' })).toBe(true);
  });

  it('refuses a PNG declared as JPEG, text declared as an image, a PDF claim on unknown bytes', () => {
    expect(declaredMatches('image/jpeg', png)).toBe(false);
    expect(declaredMatches('image/jpeg', UNKNOWN_TYPE)).toBe(false);
    expect(declaredMatches('video/mp4', UNKNOWN_TYPE)).toBe(false);
    expect(declaredMatches('application/pdf', UNKNOWN_TYPE)).toBe(false);
    expect(declaredMatches('image/svg+xml', UNKNOWN_TYPE)).toBe(false);
  });

  it('lets undetectable text formats through (their mime is then recorded as octet-stream)', () => {
    expect(declaredMatches('text/plain', UNKNOWN_TYPE)).toBe(true);
    expect(declaredMatches('text/csv', UNKNOWN_TYPE)).toBe(true);
  });

  it('throws media.type_mismatch with both types in the reason', () => {
    let err: unknown;
    try {
      assertDeclaredType('image/jpeg', png);
    } catch (e) {
      err = e;
    }
    expect(isMediaError(err, MediaErrorCode.TypeMismatch)).toBe(true);
    expect((err as Error).message).toMatch(/declared image\/jpeg but the bytes are image\/png/);
  });
});
