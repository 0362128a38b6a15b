import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';

// The race pipeToNewFile guards against, forced: the sink's open is held back until the source has failed, so the
// pipeline rejects while the file does not exist yet and the open creates it afterwards. The hold is an `fs` given
// to the write stream (a hook Node documents for createWriteStream), injected through the module, so the code under
// test is the one that ships.
let releaseOpen: () => void = () => undefined;
const openHeld = () => new Promise<void>((resolve) => (releaseOpen = resolve));
let held: Promise<void> = Promise.resolve();
// Settles once the held open has run (whatever it returned), so a test can look after it.
let opened: Promise<void> = Promise.resolve();

jest.mock('node:fs', () => {
  const real = jest.requireActual<typeof import('node:fs')>('node:fs');
  return {
    ...real,
    createWriteStream: (file: string, options: Record<string, unknown>) =>
      real.createWriteStream(file, {
        ...options,
        fs: {
          open: (file: string, flags: string, mode: number, callback: (err: Error | null, fd?: number) => void) => {
            opened = new Promise<void>(
              (done) =>
                void held.then(() =>
                  real.open(file, flags, mode, (err, fd) => {
                    callback(err, fd);
                    done();
                  }),
                ),
            );
          },
          write: real.write,
          writev: real.writev,
          close: real.close,
        },
      }),
  };
});

import { pipeToNewFile } from './pipe-to-new-file';

describe('pipeToNewFile with a slow open', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pipe-to-new-file-slow-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('removes the file its late open created after the source failed', async () => {
    held = openHeld();
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    // The open goes ahead well after the failure has reached the pipeline, which rejects without waiting for it.
    failing.once('error', () => setTimeout(releaseOpen, 100));
    const file = path.join(dir, 'late');
    await expect(pipeToNewFile(failing, file)).rejects.toThrow('client went away');
    await opened;
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('writes the file once the held open completes', async () => {
    held = openHeld();
    setTimeout(() => releaseOpen(), 20);
    const file = path.join(dir, 'ok');
    await pipeToNewFile(Readable.from([Buffer.from('late but whole')]), file);
    expect(await fs.readFile(file, 'utf8')).toBe('late but whole');
  });
});
