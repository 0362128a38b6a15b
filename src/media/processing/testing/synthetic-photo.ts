import sharp from 'sharp';

// A deterministic stand-in for a 12 MP phone photo, shared by the specs and the benchmark.
// What a phone JPEG is made of, roughly: large smooth areas (sky, walls), objects with soft
// shading and hard edges, mid-frequency texture (foliage, fabric, grass) and sensor noise left
// after the phone's denoiser, encoded at q≈93 with 4:2:0 chroma by a plain (non-mozjpeg) encoder.
// Each ingredient is here in moderation: without texture and noise the JPEG would be a few
// hundred KB (trivially compressible); pure noise would be incompressible and just as unfair.

export interface SyntheticPhotoOptions {
  width?: number;
  height?: number;
  seed?: number;
  quality?: number;
}

export async function syntheticPhoneJpeg(opts: SyntheticPhotoOptions = {}): Promise<Buffer> {
  const { width = 4032, height = 3024, seed = 1, quality = 93 } = opts;
  const rand = mulberry32(seed);
  const pixels = await syntheticPhotoPixels(width, height, rand);
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0', mozjpeg: false })
    .toBuffer();
}

async function syntheticPhotoPixels(width: number, height: number, rand: () => number): Promise<Buffer> {
  const scene = await renderScene(width, height, rand);
  // Texture: fractal value noise (four octaves, each upsampled by sharp's cubic kernel).
  const octaves: Array<{ div: number; amp: number }> = [
    { div: 168, amp: 16 },
    { div: 42, amp: 16 },
    { div: 12, amp: 18 },
    { div: 5, amp: 16 },
    { div: 2, amp: 8 },
  ];
  const layers: Buffer[] = [];
  for (const { div } of octaves) layers.push(await noiseLayer(width, height, div, rand));
  const horizon = Math.round(height * 0.42);
  const out = scene;
  let state = ((rand() * 0xffffffff) >>> 0) | 1;
  for (let y = 0; y < height; y++) {
    // Sky carries little texture, the ground a lot, like most outdoor shots.
    const textureGain = y < horizon ? 0.25 : 1;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      let t = 0;
      for (let o = 0; o < octaves.length; o++) t += ((layers[o][p] - 128) / 128) * octaves[o].amp;
      t *= textureGain;
      // Sensor noise: a triangular distribution, sigma about 2.6 levels, mostly in luminance.
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      const n = ((state & 0xff) + ((state >>> 8) & 0xff) - 255) / 48;
      const c = ((state >>> 16) & 0xff) / 255 - 0.5;
      const i = p * 3;
      out[i] = clamp(out[i] + t + n + c);
      out[i + 1] = clamp(out[i + 1] + t * 0.9 + n);
      out[i + 2] = clamp(out[i + 2] + t * 0.7 + n - c);
    }
  }
  return out;
}

async function renderScene(width: number, height: number, rand: () => number): Promise<Buffer> {
  const horizon = Math.round(height * 0.42);
  const shapes: string[] = [];
  const color = () => `rgb(${Math.floor(40 + rand() * 190)},${Math.floor(40 + rand() * 190)},${Math.floor(40 + rand() * 190)})`;
  for (let i = 0; i < 14; i++) {
    const x = Math.round(rand() * width);
    const y = Math.round(horizon - height * 0.1 + rand() * height * 0.6);
    const w = Math.round(width * (0.05 + rand() * 0.2));
    const h = Math.round(height * (0.05 + rand() * 0.25));
    const id = `g${i}`;
    shapes.push(
      `<linearGradient id="${id}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${color()}"/><stop offset="1" stop-color="${color()}"/></linearGradient>`,
    );
    shapes.push(
      i % 3 === 0
        ? `<ellipse cx="${x}" cy="${y}" rx="${w / 2}" ry="${h / 2}" fill="url(#${id})"/>`
        : i % 3 === 1
          ? `<rect x="${x - w / 2}" y="${y - h / 2}" width="${w}" height="${h}" rx="${w / 12}" fill="url(#${id})"/>`
          : `<polygon points="${x},${y - h / 2} ${x + w / 2},${y + h / 2} ${x - w / 2},${y + h / 2}" fill="url(#${id})"/>`,
    );
  }
  // Hard edges: a facade with a grid of windows, and pebbles/leaves scattered on the ground.
  const bx = Math.round(width * 0.05);
  const bw = Math.round(width * 0.3);
  const by = Math.round(horizon - height * 0.3);
  const bh = Math.round(height * 0.3);
  shapes.push(`<rect x="${bx}" y="${by}" width="${bw}" height="${bh}" fill="rgb(150,140,125)"/>`);
  for (let wy = by + 20; wy < by + bh - 60; wy += 70) {
    for (let wx = bx + 20; wx < bx + bw - 40; wx += 56) {
      const lit = rand() < 0.3;
      shapes.push(
        `<rect x="${wx}" y="${wy}" width="34" height="46" fill="${lit ? 'rgb(235,215,150)' : 'rgb(45,55,70)'}" stroke="rgb(90,85,80)" stroke-width="3"/>`,
      );
    }
  }
  for (let i = 0; i < 1500; i++) {
    const x = Math.round(rand() * width);
    const y = Math.round(horizon + rand() * (height - horizon));
    const r = Math.round(3 + rand() * 18);
    shapes.push(
      `<ellipse cx="${x}" cy="${y}" rx="${r}" ry="${Math.round(r * (0.4 + rand() * 0.6))}" fill="${color()}" fill-opacity="0.8" stroke="rgb(30,30,25)" stroke-opacity="0.5" stroke-width="2"/>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="rgb(70,120,200)"/><stop offset="1" stop-color="rgb(190,210,235)"/></linearGradient>
    <linearGradient id="ground" x1="0" y1="0" x2="0.3" y2="1"><stop offset="0" stop-color="rgb(110,130,70)"/><stop offset="1" stop-color="rgb(60,75,40)"/></linearGradient>
    <radialGradient id="sun"><stop offset="0" stop-color="rgb(255,250,225)"/><stop offset="1" stop-color="rgb(255,250,225)" stop-opacity="0"/></radialGradient>
  </defs>
  <rect width="${width}" height="${horizon}" fill="url(#sky)"/>
  <rect y="${horizon}" width="${width}" height="${height - horizon}" fill="url(#ground)"/>
  <circle cx="${width * 0.78}" cy="${height * 0.16}" r="${height * 0.12}" fill="url(#sun)"/>
  ${shapes.join('\n  ')}
</svg>`;
  return sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
}

async function noiseLayer(width: number, height: number, div: number, rand: () => number): Promise<Buffer> {
  const w = Math.max(2, Math.ceil(width / div));
  const h = Math.max(2, Math.ceil(height / div));
  const small = Buffer.alloc(w * h);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(rand() * 256);
  return sharp(small, { raw: { width: w, height: h, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .extractChannel(0) // sharp widens single-band raw input to sRGB unless told otherwise
    .raw()
    .toBuffer();
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
