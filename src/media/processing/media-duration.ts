import * as fs from 'node:fs/promises';

// Duration without ffmpeg, from container headers only: MP4/MOV/M4A/3GP (moov/mvhd), WAV (fmt +
// data chunks), MP3 (Xing/Info/VBRI frame count, else constant-bitrate estimate) and FLAC
// (STREAMINFO). Anything else — WebM, Ogg, AAC/ADTS, AMR — returns null: no guessing.

const MP4_FAMILY = new Set([
  'video/mp4',
  'video/quicktime',
  'video/x-m4v',
  'audio/mp4',
  'audio/x-m4a',
  'video/3gpp',
  'video/3gpp2',
  'audio/3gpp',
  'audio/3gpp2',
]);

export async function probeDurationMs(file: string, mime: string): Promise<number | null> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const r = new Reader(fh, size);
    let ms: number | null = null;
    if (MP4_FAMILY.has(mime)) ms = await mp4Duration(r);
    else if (mime === 'audio/vnd.wave' || mime === 'audio/wav') ms = await wavDuration(r);
    else if (mime === 'audio/mpeg') ms = await mp3Duration(r);
    else if (mime === 'audio/x-flac' || mime === 'audio/flac') ms = await flacDuration(r);
    return ms !== null && Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : null;
  } catch {
    // A header we cannot follow is not an error for a file we store as-is.
    return null;
  } finally {
    await fh.close();
  }
}

class Reader {
  constructor(
    private readonly fh: fs.FileHandle,
    readonly size: number,
  ) {}

  async at(pos: number, length: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.size - pos));
    const buf = Buffer.alloc(len);
    if (len > 0) await this.fh.read(buf, 0, len, pos);
    return buf;
  }
}

// ISO BMFF: top-level boxes to moov, then moov's children to mvhd (timescale + duration).
async function mp4Duration(r: Reader): Promise<number | null> {
  const moov = await findBox(r, 0, r.size, 'moov');
  if (!moov) return null;
  const mvhd = await findBox(r, moov.dataStart, moov.end, 'mvhd');
  if (!mvhd) return null;
  const b = await r.at(mvhd.dataStart, 32);
  const version = b[0];
  let timescale: number;
  let duration: number;
  if (version === 1) {
    timescale = b.readUInt32BE(20);
    duration = Number(b.readBigUInt64BE(24));
    if (duration === Number(0xffffffffffffffffn)) return null;
  } else {
    timescale = b.readUInt32BE(12);
    duration = b.readUInt32BE(16);
    if (duration === 0xffffffff) return null;
  }
  return timescale ? (duration * 1000) / timescale : null;
}

async function findBox(r: Reader, start: number, end: number, type: string): Promise<{ dataStart: number; end: number } | null> {
  let pos = start;
  for (let guard = 0; pos + 8 <= end && guard < 10_000; guard++) {
    const h = await r.at(pos, 16);
    if (h.length < 8) return null;
    let size = h.readUInt32BE(0);
    let header = 8;
    if (size === 1) {
      if (h.length < 16) return null;
      size = Number(h.readBigUInt64BE(8));
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header) return null;
    if (h.toString('latin1', 4, 8) === type) return { dataStart: pos + header, end: Math.min(pos + size, end) };
    pos += size;
  }
  return null;
}

// RIFF/WAVE: byteRate from "fmt ", length from "data" (0xFFFFFFFF or past EOF: a stream that was never finalised).
async function wavDuration(r: Reader): Promise<number | null> {
  const riff = await r.at(0, 12);
  if (riff.toString('latin1', 0, 4) !== 'RIFF' || riff.toString('latin1', 8, 12) !== 'WAVE') return null;
  let pos = 12;
  let byteRate = 0;
  for (let guard = 0; pos + 8 <= r.size && guard < 1000; guard++) {
    const h = await r.at(pos, 8);
    const id = h.toString('latin1', 0, 4);
    const size = h.readUInt32LE(4);
    if (id === 'fmt ') {
      byteRate = (await r.at(pos + 8, 16)).readUInt32LE(8);
    } else if (id === 'data') {
      const available = r.size - (pos + 8);
      const dataSize = size === 0xffffffff || size > available ? available : size;
      return byteRate ? (dataSize * 1000) / byteRate : null;
    }
    pos += 8 + size + (size & 1);
  }
  return null;
}

const MP3_BITRATES: Record<string, number[]> = {
  // kbps by bitrate index, for [MPEG-1 | MPEG-2/2.5] x layer
  V1L1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  V1L2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  V1L3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  V2L1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  V2L2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  V2L3: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

async function mp3Duration(r: Reader): Promise<number | null> {
  let start = 0;
  const id3 = await r.at(0, 10);
  if (id3.toString('latin1', 0, 3) === 'ID3') {
    const tagSize = ((id3[6] & 0x7f) << 21) | ((id3[7] & 0x7f) << 14) | ((id3[8] & 0x7f) << 7) | (id3[9] & 0x7f);
    start = 10 + tagSize + (id3[5] & 0x10 ? 10 : 0);
  }
  const window = await r.at(start, 64 * 1024);
  for (let i = 0; i + 4 <= window.length; i++) {
    if (window[i] !== 0xff || (window[i + 1] & 0xe0) !== 0xe0) continue;
    const versionBits = (window[i + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    const layerBits = (window[i + 1] >> 1) & 3; // 3 = I, 2 = II, 1 = III
    const bitrateIndex = window[i + 2] >> 4;
    const rateIndex = (window[i + 2] >> 2) & 3;
    if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) continue;
    const layer = 4 - layerBits;
    const v1 = versionBits === 3;
    const sampleRate = MP3_RATES[versionBits][rateIndex];
    const bitrate = MP3_BITRATES[`${v1 ? 'V1' : 'V2'}L${layer}`][bitrateIndex] * 1000;
    const samplesPerFrame = layer === 1 ? 384 : layer === 2 || v1 ? 1152 : 576;
    const mono = window[i + 3] >> 6 === 3;
    const frameStart = start + i;
    // A Xing/Info (or VBRI) header in the first frame carries the exact frame count.
    const sideInfo = v1 ? (mono ? 17 : 32) : mono ? 9 : 17;
    const first = await r.at(frameStart, 4 + 36 + 32);
    const xingAt = 4 + sideInfo;
    const tag = first.toString('latin1', xingAt, xingAt + 4);
    if ((tag === 'Xing' || tag === 'Info') && first.readUInt32BE(xingAt + 4) & 1) {
      const frameCount = first.readUInt32BE(xingAt + 8);
      return (frameCount * samplesPerFrame * 1000) / sampleRate;
    }
    if (first.toString('latin1', 36, 40) === 'VBRI') {
      const frameCount = first.readUInt32BE(36 + 14);
      return (frameCount * samplesPerFrame * 1000) / sampleRate;
    }
    const tail = await r.at(r.size - 128, 3);
    const audioBytes = r.size - frameStart - (tail.toString('latin1') === 'TAG' ? 128 : 0);
    return (audioBytes * 8 * 1000) / bitrate;
  }
  return null;
}

// fLaC, then STREAMINFO as the first metadata block: 20-bit sample rate and 36-bit sample count.
async function flacDuration(r: Reader): Promise<number | null> {
  const b = await r.at(0, 4 + 4 + 34);
  if (b.toString('latin1', 0, 4) !== 'fLaC' || (b[4] & 0x7f) !== 0) return null;
  const si = b.subarray(8);
  const sampleRate = (si[10] << 12) | (si[11] << 4) | (si[12] >> 4);
  const totalSamples = (si[13] & 0x0f) * 2 ** 32 + si.readUInt32BE(14);
  return sampleRate && totalSamples ? (totalSamples * 1000) / sampleRate : null;
}
