import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// Streams `source` (through `through`, if given) into a file that must not exist yet. When it fails, the file is gone
// by the time this rejects: a sink destroyed while still opening creates its file afterwards, so its close is awaited
// before the file is removed (removing it at once left it behind under load).
export async function pipeToNewFile(source: Readable, file: string, through?: Transform): Promise<void> {
  const sink = createWriteStream(file, { flags: 'wx' });
  // Only a file this call created is removed (one that existed already made the open fail, and is someone else's).
  let created = false;
  sink.once('open', () => (created = true));
  try {
    await (through ? pipeline(source, through, sink) : pipeline(source, sink));
  } catch (err) {
    if (!sink.closed) await new Promise<void>((resolve) => sink.once('close', () => resolve()));
    if (created) await fs.rm(file, { force: true });
    throw err;
  }
}
