import { batchedSweep } from './batched-sweep';

// A sweep that must not fail: its error fails the test.
const fail = (err: Error) => {
  throw err;
};

describe('batchedSweep', () => {
  it('deletes batch after batch until a short one, at most maxBatches, and reports the total', async () => {
    const left = [5, 5, 2, 5];
    const done: number[] = [];
    const sweep = batchedSweep({ batch: async () => left.shift()!, size: 5, maxBatches: 10, onDone: (n) => done.push(n), onError: fail });
    expect(await sweep.run()).toBe(12);
    expect(left).toEqual([5]);
    expect(done).toEqual([12]);
    const capped = batchedSweep({ batch: async () => 5, size: 5, maxBatches: 3, onError: fail });
    expect(await capped.run()).toBe(15);
  });

  it('skips a run while one is going, and reports a failure without throwing', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sweep = batchedSweep({ batch: async () => (await gate, 1), size: 5, maxBatches: 1, onError: fail });
    const first = sweep.run();
    expect(await sweep.run()).toBe(0);
    release();
    expect(await first).toBe(1);
    const errors: string[] = [];
    const failing = batchedSweep({ batch: async () => Promise.reject(new Error('db away')), size: 5, maxBatches: 1, onError: (e) => errors.push(e.message) });
    expect(await failing.run()).toBe(0);
    expect(errors).toEqual(['db away']);
    // Not stuck after a failure.
    expect(await failing.run()).toBe(0);
    expect(errors).toHaveLength(2);
  });
});
