// Minimal, valid-enough containers for tests: just the headers our detection and duration probe read.

function box(type: string, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

// ftyp + mdat + moov/mvhd (moov last, as a camera writes it before "fast start" relocation).
export function mp4WithDuration(opts: {
  timescale: number;
  duration: number;
  version?: 0 | 1;
  brand?: string;
  mdatBytes?: number;
}): Buffer {
  const { timescale, duration, version = 0, brand = 'isom', mdatBytes = 2000 } = opts;
  const ftyp = box('ftyp', Buffer.from(brand, 'latin1'), Buffer.alloc(4), Buffer.from(`${brand}mp41`, 'latin1'));
  const mdat = box('mdat', Buffer.alloc(mdatBytes, 0x11));
  let mvhd: Buffer;
  if (version === 1) {
    const b = Buffer.alloc(4 + 8 + 8 + 4 + 8 + 80);
    b[0] = 1;
    b.writeUInt32BE(timescale, 20);
    b.writeBigUInt64BE(BigInt(duration), 24);
    mvhd = box('mvhd', b);
  } else {
    const b = Buffer.alloc(4 + 4 + 4 + 4 + 4 + 80);
    b.writeUInt32BE(timescale, 12);
    b.writeUInt32BE(duration, 16);
    mvhd = box('mvhd', b);
  }
  const moov = box('moov', mvhd, box('trak', Buffer.alloc(16)));
  return Buffer.concat([ftyp, mdat, moov]);
}

export function wavPcm(opts: { sampleRate: number; channels: number; seconds: number }): Buffer {
  const { sampleRate, channels, seconds } = opts;
  const blockAlign = channels * 2;
  const dataSize = Math.round(sampleRate * seconds) * blockAlign;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + dataSize, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate * blockAlign, 28);
  h.writeUInt16LE(blockAlign, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(dataSize, 40);
  return Buffer.concat([h, Buffer.alloc(dataSize)]);
}

// MPEG-1 Layer III, 128 kbps, 44.1 kHz, stereo: 417-byte frames of 1152 samples. With `xing`,
// the first frame is an Info frame carrying the frame count, as LAME writes it.
export function mp3Cbr(frames: number, opts: { xing?: boolean; id3Bytes?: number } = {}): Buffer {
  const frame = () => {
    const f = Buffer.alloc(417);
    f.set([0xff, 0xfb, 0x90, 0x00]);
    return f;
  };
  const out: Buffer[] = [];
  if (opts.id3Bytes) {
    // ID3v2.4 with a syncsafe size, standing in for tags and cover art.
    const n = opts.id3Bytes;
    const tag = Buffer.alloc(10 + n);
    tag.write('ID3', 0, 'latin1');
    tag[3] = 4;
    tag.set([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f], 6);
    out.push(tag);
  }
  if (opts.xing) {
    const info = frame();
    info.write('Info', 36, 'latin1');
    info.writeUInt32BE(1, 40);
    info.writeUInt32BE(frames, 44);
    out.push(info);
  }
  for (let i = 0; i < frames; i++) out.push(frame());
  return Buffer.concat(out);
}

export function flac(opts: { sampleRate: number; totalSamples: number }): Buffer {
  const si = Buffer.alloc(34);
  si.writeUInt16BE(4096, 0);
  si.writeUInt16BE(4096, 2);
  // sample rate (20 bits) | channels-1 (3) | bps-1 (5) | total samples (36)
  const { sampleRate, totalSamples } = opts;
  si[10] = (sampleRate >> 12) & 0xff;
  si[11] = (sampleRate >> 4) & 0xff;
  si[12] = ((sampleRate & 0x0f) << 4) | (1 << 1) | 0; // 2 channels, bps high bit 0
  si[13] = (15 << 4) | Math.floor(totalSamples / 2 ** 32); // bps-1 = 15 (16-bit)
  si.writeUInt32BE(totalSamples % 2 ** 32, 14);
  const header = Buffer.from([0x80, 0x00, 0x00, 34]);
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), header, si, Buffer.alloc(64)]);
}

// Only the ftyp box of an iPhone HEIC: enough for type detection.
export function heicHeader(): Buffer {
  return Buffer.concat([box('ftyp', Buffer.from('heic', 'latin1'), Buffer.alloc(4), Buffer.from('mif1heic', 'latin1')), Buffer.alloc(200)]);
}
