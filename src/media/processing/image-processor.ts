import sharp, { SharpOptions } from 'sharp';
import { MediaError, MediaErrorCode } from './media.errors';

// Quality, chosen to be invisible at the size a person sees the picture:
// - WebP q80 (libwebp's default), effort 4: on photos at display size it looks like JPEG q85-88
//   at ~20-30% fewer bytes. smartSubsample was measured and left off: it doubled encode time on a
//   12 MP photo's display variant (≈570 vs 260 ms) for sharper chroma edges on ~4% more bytes.
// - JPEG fallback q82 with mozjpeg (trellis quantisation, optimised progressive scans): mozjpeg at
//   80-85 is the range image CDNs ship as "visually lossless"; below ~75 blocking shows in skies.
// - Thumbnails use the same settings; at 320 px going lower saves a few KB.
// On the synthetic phone photo, SSIM vs a lossless resize is ≈0.955 (WebP) and ≈0.96 (JPEG); what
// is lost is mostly sensor grain. q90 would cost 1.8× the bytes for 0.978. The bench prints both.
export interface ImageProcessingOptions {
  displayMaxSide: number;
  thumbMaxSide: number;
  webpQuality: number;
  jpegQuality: number;
  // Decompression-bomb guard: width × height (× frames for animations) that sharp may decode.
  limitInputPixels: number;
}

export const DEFAULT_IMAGE_OPTIONS: ImageProcessingOptions = {
  displayMaxSide: 2048,
  thumbMaxSide: 320,
  webpQuality: 80,
  jpegQuality: 82,
  limitInputPixels: 100_000_000,
};

export interface EncodedVariant {
  name: string;
  mime: string;
  data: Buffer;
  width: number;
  height: number;
}

export interface ProcessedImage {
  // Of the source after auto-orientation (for an animation, one frame).
  width: number;
  height: number;
  format: string;
  animated: boolean;
  frames: number;
  variants: EncodedVariant[];
}

// Animated GIF/WebP stay animated: display.webp (animated WebP, typically a fraction of the GIF)
// and display.gif (re-encoded so that metadata is dropped and the size is capped) for clients that
// cannot play animated WebP; thumbnails are stills of the first frame. Other formats: one frame.
const ANIMATABLE = new Set(['gif', 'webp']);

export async function processImage(file: string, options: Partial<ImageProcessingOptions> = {}): Promise<ProcessedImage> {
  const opts = { ...DEFAULT_IMAGE_OPTIONS, ...options };
  const input: SharpOptions = { failOn: 'error', limitInputPixels: opts.limitInputPixels };
  try {
    const meta = await sharp(file, input).metadata();
    if (!meta.width || !meta.height || !meta.format) throw new Error('no dimensions in the header');
    const frames = meta.pages ?? 1;
    if (frames > 1 && ANIMATABLE.has(meta.format)) {
      const framePixels = meta.width * (meta.pageHeight ?? meta.height);
      if (framePixels * frames > opts.limitInputPixels) {
        throw new MediaError(MediaErrorCode.TooLarge, `animation of ${frames} frames exceeds ${opts.limitInputPixels} pixels`);
      }
      return await processAnimated(file, input, meta, frames, opts);
    }
    return await processStill(file, input, meta, opts);
  } catch (err) {
    throw asImageError(err);
  }
}

async function processStill(
  file: string,
  input: SharpOptions,
  meta: sharp.Metadata,
  opts: ImageProcessingOptions,
): Promise<ProcessedImage> {
  // One decode: orient, fit the display box, drop to 8-bit sRGB (through the embedded ICC profile
  // if any); every variant is encoded from these pixels. sharp writes no metadata unless asked, and
  // nothing here asks, so EXIF (GPS, camera, orientation), XMP, IPTC and ICC are all gone.
  const display = await sharp(file, input)
    .rotate()
    .resize(fitBox(opts.displayMaxSide))
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // The thumbnail is downscaled from the display pixels while the display variants encode.
  const encodes = [
    encodeStill('display', display.data, display.info, opts),
    sharp(display.data, { raw: rawOf(display.info) })
      .resize(fitBox(opts.thumbMaxSide))
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then((thumb) => encodeStill('thumb', thumb.data, thumb.info, opts)),
  ];
  const variants = (await Promise.all(encodes)).flat();
  const swap = (meta.orientation ?? 1) >= 5;
  return {
    width: swap ? meta.height! : meta.width!,
    height: swap ? meta.width! : meta.height!,
    format: meta.format!,
    animated: false,
    frames: 1,
    variants,
  };
}

async function processAnimated(
  file: string,
  input: SharpOptions,
  meta: sharp.Metadata,
  frames: number,
  opts: ImageProcessingOptions,
): Promise<ProcessedImage> {
  const animated: SharpOptions = { ...input, animated: true };
  const [webp, gif, first] = await Promise.all([
    sharp(file, animated)
      .resize(fitBox(opts.displayMaxSide))
      .webp({ quality: opts.webpQuality, effort: 4 })
      .toBuffer({ resolveWithObject: true }),
    sharp(file, animated).resize(fitBox(opts.displayMaxSide)).gif({ effort: 7 }).toBuffer({ resolveWithObject: true }),
    sharp(file, { ...input, pages: 1 })
      .resize(fitBox(opts.thumbMaxSide))
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }),
  ]);
  const frameHeight = (info: sharp.OutputInfo) => info.pageHeight ?? Math.round(info.height / frames);
  return {
    width: meta.width!,
    height: meta.pageHeight ?? meta.height!,
    format: meta.format!,
    animated: true,
    frames,
    variants: [
      { name: 'display.webp', mime: 'image/webp', data: webp.data, width: webp.info.width, height: frameHeight(webp.info) },
      { name: 'display.gif', mime: 'image/gif', data: gif.data, width: gif.info.width, height: frameHeight(gif.info) },
      ...(await encodeStill('thumb', first.data, first.info, opts)),
    ],
  };
}

async function encodeStill(
  prefix: string,
  pixels: Buffer,
  info: sharp.OutputInfo,
  opts: ImageProcessingOptions,
): Promise<EncodedVariant[]> {
  const raw = rawOf(info);
  const [webp, jpeg] = await Promise.all([
    sharp(pixels, { raw }).webp({ quality: opts.webpQuality, effort: 4 }).toBuffer(),
    // JPEG has no alpha: transparent areas become white, as most chat clients render them.
    sharp(pixels, { raw }).flatten({ background: '#ffffff' }).jpeg({ quality: opts.jpegQuality, mozjpeg: true }).toBuffer(),
  ]);
  return [
    { name: `${prefix}.webp`, mime: 'image/webp', data: webp, width: info.width, height: info.height },
    { name: `${prefix}.jpg`, mime: 'image/jpeg', data: jpeg, width: info.width, height: info.height },
  ];
}

function fitBox(side: number): sharp.ResizeOptions {
  return { width: side, height: side, fit: 'inside', withoutEnlargement: true };
}

function rawOf(info: sharp.OutputInfo): sharp.CreateRaw {
  return { width: info.width, height: info.height, channels: info.channels as 1 | 2 | 3 | 4 };
}

function asImageError(err: unknown): MediaError {
  if (err instanceof MediaError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new MediaError(MediaErrorCode.TooLarge, `image too large to decode: ${message}`, { cause: err });
  return new MediaError(MediaErrorCode.CorruptImage, message, { cause: err });
}
