import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DETECT_HEAD_BYTES, detectType } from './detect-type';
import { probeDurationMs } from './media-duration';
import { flac, mp3Cbr, mp4WithDuration, wavPcm } from './testing/media-fixtures';

describe('probeDurationMs (headers only, no ffmpeg)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'media-dur-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  async function probe(bytes: Buffer): Promise<{ mime: string; ms: number | null }> {
    const file = path.join(dir, `f-${Math.random()}`);
    await fs.writeFile(file, bytes);
    const { mime } = await detectType(bytes.subarray(0, DETECT_HEAD_BYTES)); // as ingest sees it
    return { mime, ms: await probeDurationMs(file, mime) };
  }

  it('reads mvhd in an MP4 whose moov comes after mdat (v0 and v1 boxes)', async () => {
    expect(await probe(mp4WithDuration({ timescale: 600, duration: 7530 }))).toEqual({ mime: 'video/mp4', ms: 12550 });
    expect(await probe(mp4WithDuration({ timescale: 90000, duration: 2_700_000, version: 1 }))).toEqual({ mime: 'video/mp4', ms: 30000 });
  });

  it('reads an M4A voice note and a QuickTime movie the same way', async () => {
    expect(await probe(mp4WithDuration({ timescale: 44100, duration: 44100 * 3, brand: 'M4A ' }))).toEqual({
      mime: 'audio/x-m4a',
      ms: 3000,
    });
    expect(await probe(mp4WithDuration({ timescale: 1000, duration: 1234, brand: 'qt  ' }))).toEqual({ mime: 'video/quicktime', ms: 1234 });
  });

  it('reads WAV from its fmt and data chunks', async () => {
    expect(await probe(wavPcm({ sampleRate: 8000, channels: 1, seconds: 1.5 }))).toEqual({ mime: 'audio/vnd.wave', ms: 1500 });
  });

  it('reads MP3 from an Info frame count, or estimates constant bitrate', async () => {
    const exact = await probe(mp3Cbr(100, { xing: true, id3Bytes: 100 }));
    expect(exact.mime).toBe('audio/mpeg');
    expect(exact.ms).toBe(Math.round((100 * 1152 * 1000) / 44100));
    const cbr = await probe(mp3Cbr(100));
    expect(Math.abs(cbr.ms! - 2612) / 2612).toBeLessThan(0.01);
  });

  it('skips an ID3 tag larger than the detection window (cover art) for both type and duration', async () => {
    expect(await probe(mp3Cbr(50, { xing: true, id3Bytes: 80_000 }))).toEqual({
      mime: 'audio/mpeg',
      ms: Math.round((50 * 1152 * 1000) / 44100),
    });
  });

  it('reads FLAC STREAMINFO', async () => {
    expect(await probe(flac({ sampleRate: 48000, totalSamples: 48000 * 4 }))).toEqual({ mime: 'audio/x-flac', ms: 4000 });
  });

  it('says null rather than guessing', async () => {
    const truncated = mp4WithDuration({ timescale: 600, duration: 6000 }).subarray(0, 1000);
    expect((await probe(truncated)).ms).toBeNull();
    const file = path.join(dir, 'webm');
    await fs.writeFile(file, Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0, 0, 0, 0]));
    expect(await probeDurationMs(file, 'video/webm')).toBeNull();
  });
});
