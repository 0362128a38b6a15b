import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeToNewFile } from './pipe-to-new-file';

describe('pipeToNewFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pipe-to-new-file-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

  it('writes the stream, through a transform when given', async () => {
    const file = path.join(dir, 'a');
    await pipeToNewFile(Readable.from([Buffer.from('ab'), Buffer.from('c')]), file, new PassThrough());
    expect(await fs.readFile(file, 'utf8')).toBe('abc');
  });

  // The race behind the wait for close (the open still in flight when the source fails) is forced in
  // pipe-to-new-file.slow-open.spec.ts; this checks the failure path itself.
  it('leaves no file when the source fails at once', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    await expect(pipeToNewFile(failing, path.join(dir, 'f'))).rejects.toThrow('client went away');
    await settle();
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it('refuses a file that exists, and leaves it as it was', async () => {
    const file = path.join(dir, 'taken');
    await fs.writeFile(file, 'mine');
    await expect(pipeToNewFile(Readable.from([Buffer.from('x')]), file)).rejects.toThrow(/EEXIST/);
    expect(await fs.readFile(file, 'utf8')).toBe('mine');
  });
});
