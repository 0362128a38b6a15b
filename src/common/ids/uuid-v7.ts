import { takeRandom } from './random-pool';

// RFC 9562 UUIDv7: 48 bits of Unix milliseconds, then random bits. Ids made in time order land at the right edge
// of a btree on them, so an index on a hot table's id stays cached instead of taking a random page per insert.
export function uuidV7(now = Date.now()): string {
  const b = Buffer.allocUnsafe(16);
  b.writeUIntBE(now, 0, 6);
  takeRandom(10).copy(b, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
