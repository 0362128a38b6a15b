// Media pipeline throughput on 12 MP phone-like photos, with a plain-sharp baseline in the same run.
// Build: tsc -p tsconfig.build.json; run: node dist/test/bench/media.bench.js
// Last line: media images_per_s=… size_ratio=… baseline_images_per_s=… ratio=…
//   images_per_s           full processUpload (stream → spool+SHA-256 → detect → orient/strip → 4 encodes → fs storage)
//   size_ratio             original bytes / display.webp bytes, over all photos
//   baseline_images_per_s  sharp(buffer).resize(2048 box).webp(q80) only, same photos
//   ratio                  images_per_s / baseline_images_per_s (the pipeline's cost relative to one plain encode)
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { MediaProcessor } from '../../src/media/processing/media-processor';
import { syntheticPhoneJpeg } from '../../src/media/processing/testing/synthetic-photo';
import { FsMediaStorage } from '../../src/media/storage/fs-media-storage';

const PHOTOS = Number(process.env.MEDIA_BENCH_PHOTOS ?? 6);

// Mean SSIM on luma, 8×8 windows with stride 4 (Wang et al. constants); enough to compare settings.
function ssim(a: Buffer, b: Buffer, w: number, h: number): number {
  const luma = (rgb: Buffer) => {
    const y = new Float64Array(w * h);
    for (let i = 0; i < y.length; i++) y[i] = 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
    return y;
  };
  const ya = luma(a);
  const yb = luma(b);
  const c1 = (0.01 * 255) ** 2;
  const c2 = (0.03 * 255) ** 2;
  let sum = 0;
  let n = 0;
  for (let y = 0; y + 8 <= h; y += 4) {
    for (let x = 0; x + 8 <= w; x += 4) {
      let ma = 0;
      let mb = 0;
      for (let j = 0; j < 8; j++) for (let i = 0; i < 8; i++) ((ma += ya[(y + j) * w + x + i]), (mb += yb[(y + j) * w + x + i]));
      ma /= 64;
      mb /= 64;
      let va = 0;
      let vb = 0;
      let cov = 0;
      for (let j = 0; j < 8; j++) {
        for (let i = 0; i < 8; i++) {
          const da = ya[(y + j) * w + x + i] - ma;
          const db = yb[(y + j) * w + x + i] - mb;
          va += da * da;
          vb += db * db;
          cov += da * db;
        }
      }
      sum += ((2 * ma * mb + c1) * ((2 * cov) / 63 + c2)) / ((ma * ma + mb * mb + c1) * ((va + vb) / 63 + c2));
      n++;
    }
  }
  return sum / n;
}

function psnr(a: Buffer, b: Buffer): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  return 10 * Math.log10((255 * 255) / (se / a.length));
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const photos: Buffer[] = [];
  for (let i = 0; i < PHOTOS + 1; i++) photos.push(await syntheticPhoneJpeg({ seed: 1000 + i }));
  const warm = photos.pop()!;
  const avgMb = photos.reduce((s, p) => s + p.length, 0) / photos.length / 1e6;
  console.log(`fixtures: ${PHOTOS} synthetic 4032x3024 JPEG q93, avg ${avgMb.toFixed(2)} MB, generated in ${Date.now() - t0} ms`);

  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'media-bench-'));
  try {
    const storage = new FsMediaStorage({ rootDir: root });
    const media = new MediaProcessor(storage);
    const upload = (buf: Buffer) => media.processUpload(Readable.from([buf]), { maxBytes: 50_000_000, declaredType: 'image/jpeg' });
    const baseline = (buf: Buffer) =>
      sharp(buf).resize({ width: 2048, height: 2048, fit: 'inside', withoutEnlargement: true }).webp({ quality: 80 }).toBuffer();

    await upload(warm);
    await baseline(warm);

    let originalBytes = 0;
    let displayWebp = 0;
    const sizes: Record<string, number> = {};
    const tp = process.hrtime.bigint();
    for (const p of photos) {
      const r = await upload(p);
      if (r.deduplicated) throw new Error('bench photos must be distinct');
      originalBytes += p.length;
      for (const v of r.variants) sizes[v.name] = (sizes[v.name] ?? 0) + v.size;
      displayWebp += r.variants.find((v) => v.name === 'display.webp')!.size;
    }
    const pipelineS = Number(process.hrtime.bigint() - tp) / 1e9;

    const tb = process.hrtime.bigint();
    for (const p of photos) await baseline(p);
    const baselineS = Number(process.hrtime.bigint() - tb) / 1e9;

    // Quality check on the first photo: each display variant against a lossless resize.
    const hash = (await upload(photos[0])).sha256;
    const { data: ref, info } = await sharp(photos[0])
      .resize({ width: 2048, height: 2048, fit: 'inside' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const quality: string[] = [];
    for (const name of ['display.webp', 'display.jpg']) {
      const file = storage.pathFor(`${hash}/${name}`);
      const px = await sharp(file).removeAlpha().raw().toBuffer();
      quality.push(`${name} SSIM ${ssim(ref, px, info.width, info.height).toFixed(3)} PSNR ${psnr(ref, px).toFixed(1)} dB`);
    }

    const kb = (n: number) => `${(n / photos.length / 1024).toFixed(0)} KB`;
    console.log(
      `variants (avg): ${Object.entries(sizes)
        .map(([k, v]) => `${k} ${kb(v)}`)
        .join(', ')}; original ${kb(originalBytes)}`,
    );
    console.log(`jpeg fallback ratio: ${(originalBytes / sizes['display.jpg']).toFixed(2)}; vs a lossless resize: ${quality.join(', ')}`);
    console.log(
      `pipeline ${((pipelineS * 1000) / photos.length).toFixed(0)} ms/photo, baseline ${((baselineS * 1000) / photos.length).toFixed(0)} ms/photo, sharp.concurrency=${sharp.concurrency()}, total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    const ips = photos.length / pipelineS;
    const bips = photos.length / baselineS;
    console.log(
      `media images_per_s=${ips.toFixed(2)} size_ratio=${(originalBytes / displayWebp).toFixed(2)} baseline_images_per_s=${bips.toFixed(2)} ratio=${(ips / bips).toFixed(2)}`,
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
