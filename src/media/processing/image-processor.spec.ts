import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { EncodedVariant, processImage } from './image-processor';
import { isMediaError, MediaError, MediaErrorCode } from './media.errors';
import { syntheticPhoneJpeg } from './testing/synthetic-photo';

// Tags of IFD0 in an EXIF block ("Exif\0\0" + TIFF), enough to see the GPS IFD pointer (0x8825).
function ifd0Tags(exif: Buffer): number[] {
  const tiff = exif.subarray(6);
  const le = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o));
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o));
  const ifd = u32(4);
  return Array.from({ length: u16(ifd) }, (_, i) => u16(ifd + 2 + i * 12));
}

const GPS_IFD = 0x8825;

describe('processImage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-img-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, bytes: Buffer) => {
    const file = path.join(dir, name);
    await fs.writeFile(file, bytes);
    return file;
  };
  const byName = (vs: EncodedVariant[]) => Object.fromEntries(vs.map((v) => [v.name, v]));

  it('auto-orients and strips EXIF, GPS and every other metadata block', async () => {
    // 600×400 as stored, red with a blue block at the stored top-left; EXIF orientation 6 means
    // "rotate 90° clockwise to display", so a viewer sees 400×600 with the block at the top-right.
    const source = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 220, g: 30, b: 30 } } })
      .composite([{ input: { create: { width: 100, height: 50, channels: 3, background: { r: 20, g: 40, b: 230 } } }, top: 0, left: 0 }])
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 6 })
      .withExifMerge({
        IFD0: { Make: 'AcmePhone', Model: 'X1' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4000/100' },
      })
      .toBuffer();
    const before = await sharp(source).metadata();
    expect(before.orientation).toBe(6);
    expect(ifd0Tags(before.exif!)).toContain(GPS_IFD);

    const out = await processImage(await write('exif.jpg', source));
    expect([out.width, out.height]).toEqual([400, 600]);
    expect(out.variants.map((v) => v.name)).toEqual(['display.webp', 'display.jpg', 'thumb.webp', 'thumb.jpg']);
    for (const v of out.variants) {
      const m = await sharp(v.data).metadata();
      expect({ name: v.name, exif: m.exif, xmp: m.xmp, iptc: m.iptc, icc: m.icc, orientation: m.orientation }).toEqual({
        name: v.name,
        exif: undefined,
        xmp: undefined,
        iptc: undefined,
        icc: undefined,
        orientation: undefined,
      });
      expect(v.data.includes('Exif\0\0')).toBe(false);
      expect(v.data.includes('AcmePhone')).toBe(false);
      expect([m.width, m.height]).toEqual([v.width, v.height]);
      // Pixels, not a flag, say it is upright: blue at the top-right, red at the top-left.
      const at = async (fx: number, fy: number) => {
        const { data } = await sharp(v.data)
          .extract({ left: Math.floor(v.width * fx), top: Math.floor(v.height * fy), width: 1, height: 1 })
          .raw()
          .toBuffer({ resolveWithObject: true });
        return data[2] > data[0] ? 'blue' : 'red';
      };
      expect([await at(0.97, 0.05), await at(0.03, 0.05), await at(0.97, 0.5)]).toEqual(['blue', 'red', 'red']);
    }
    // No upscaling: the display variant stays at 400×600, the thumbnail fits 320.
    expect(byName(out.variants)['display.webp']).toEqual(expect.objectContaining({ width: 400, height: 600 }));
    expect(byName(out.variants)['thumb.jpg']).toEqual(expect.objectContaining({ width: 213, height: 320 }));
  });

  it('makes the display variant of a 12 MP phone photo at least 5× smaller than the original', async () => {
    // Fixture: see testing/synthetic-photo.ts (gradients, shapes, facade, texture, sensor noise, q93 4:2:0).
    const photo = await syntheticPhoneJpeg({ seed: 7 });
    // Guard against a fixture that is trivially compressible: a real 12 MP phone JPEG is ~2-5 MB.
    expect(photo.length).toBeGreaterThan(2_500_000);
    const out = byName((await processImage(await write('phone.jpg', photo))).variants);
    expect([out['display.webp'].width, out['display.webp'].height]).toEqual([2048, 1536]);
    expect([out['thumb.webp'].width, out['thumb.webp'].height]).toEqual([320, 240]);
    expect(photo.length / out['display.webp'].data.length).toBeGreaterThanOrEqual(5);
    expect(photo.length / out['display.jpg'].data.length).toBeGreaterThanOrEqual(5);
  }, 30_000);

  it('converts wide-gamut (Display P3) photos to sRGB pixels, since the variants carry no profile', async () => {
    const p3 = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 100, b: 50 } } })
      .withIccProfile('p3')
      .jpeg({ quality: 100 })
      .toBuffer();
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    expect(Math.abs(stored[0] - 200)).toBeGreaterThan(8); // the file holds P3 numbers, not sRGB ones
    for (const v of (await processImage(await write('p3.jpg', p3))).variants) {
      const px = await sharp(v.data).raw().toBuffer();
      expect([...px.subarray(0, 3)].map((c, i) => Math.abs(c - [200, 100, 50][i]) <= 3)).toEqual([true, true, true]);
    }
  });

  it('keeps transparency in WebP and flattens it onto white in the JPEG fallback', async () => {
    const png = await sharp({ create: { width: 50, height: 50, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    const out = byName((await processImage(await write('alpha.png', png))).variants);
    expect((await sharp(out['display.webp'].data).metadata()).hasAlpha).toBe(true);
    const jpg = await sharp(out['display.jpg'].data).raw().toBuffer();
    expect(Math.min(...jpg)).toBeGreaterThan(245);
  });

  it('keeps animated GIFs animated (WebP + re-encoded GIF) with still thumbnails', async () => {
    const frames = 4;
    const pixels = Buffer.alloc(120 * 80 * 3 * frames);
    for (let f = 0; f < frames; f++) {
      for (let p = 0; p < 120 * 80; p++) pixels.set([40 + f * 50, 90, 200 - f * 40], (f * 120 * 80 + p) * 3);
    }
    const gif = await sharp(pixels, { raw: { width: 120, height: 80 * frames, channels: 3, pageHeight: 80 } })
      .gif({ delay: [100, 100, 100, 100], loop: 0 })
      .toBuffer();
    const out = await processImage(await write('anim.gif', gif));
    expect(out).toEqual(expect.objectContaining({ animated: true, frames: 4, width: 120, height: 80 }));
    const v = byName(out.variants);
    expect(Object.keys(v)).toEqual(['display.webp', 'display.gif', 'thumb.webp', 'thumb.jpg']);
    expect((await sharp(v['display.webp'].data).metadata()).pages).toBe(4);
    expect((await sharp(v['display.gif'].data).metadata()).pages).toBe(4);
    expect((await sharp(v['thumb.webp'].data).metadata()).pages ?? 1).toBe(1);
    expect([v['display.webp'].width, v['display.webp'].height]).toEqual([120, 80]);
  });

  it('refuses a truncated JPEG as media.corrupt_image with the decoder reason', async () => {
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6' } })
      .composite([{ input: await syntheticPhoneJpeg({ width: 320, height: 240, seed: 3 }), top: 10, left: 10 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const err = await processImage(await write('cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)))).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.CorruptImage)).toBe(true);
    expect((err as MediaError).reason).toMatch(/premature end|truncated/i);
  });

  it('refuses bytes that only look like an image', async () => {
    const fake = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 0x42)]);
    const err = await processImage(await write('fake.png', fake)).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.CorruptImage)).toBe(true);
  });

  it('refuses decompression bombs before decoding', async () => {
    const big = await sharp({ create: { width: 4000, height: 4000, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const err = await processImage(await write('bomb.png', big), { limitInputPixels: 1_000_000 }).catch((e: unknown) => e);
    expect(isMediaError(err, MediaErrorCode.TooLarge)).toBe(true);
  });
});
