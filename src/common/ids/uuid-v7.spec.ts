import { uuidV7 } from './uuid-v7';
import { takeRandom } from './random-pool';

describe('uuidV7', () => {
  it('is an RFC 9562 version 7, variant 10 UUID carrying the milliseconds it was made at', () => {
    const at = Date.UTC(2026, 11, 5, 3, 30, 0, 123);
    const id = uuidV7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts (as text, as Postgres sorts uuid) in the order of the milliseconds, and is random within one', () => {
    const ids = [0, 1, 2, 1000, 86_400_000].map((d) => uuidV7(1_796_400_000_000 + d));
    expect([...ids].sort()).toEqual(ids);
    const same = new Set(Array.from({ length: 1000 }, () => uuidV7(1_796_400_000_000)));
    expect(same.size).toBe(1000);
  });
});

describe('takeRandom', () => {
  it('hands out fresh bytes across pool refills, never the same view twice', () => {
    const seen = new Set<string>();
    // 1,000 draws of 10 bytes cross the 4 KB pool twice.
    for (let i = 0; i < 1000; i++) seen.add(takeRandom(10).toString('hex'));
    expect(seen.size).toBe(1000);
    expect(takeRandom(4096)).toHaveLength(4096);
  });
});
