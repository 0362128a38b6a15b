import { personMessageMid, ReceiptBatcher, ReceivedMessage } from './receipt-batcher';

const r = (mid: string): ReceivedMessage => ({ pageId: 'p', mid });

describe('ReceiptBatcher', () => {
  it('runs one write at a time and merges what arrives meanwhile into the next', async () => {
    const writes: string[][] = [];
    let release!: () => void;
    let running = 0;
    let maxRunning = 0;
    const batcher = new ReceiptBatcher(async (batch) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      writes.push(batch.map((b) => b.mid));
      if (writes.length === 1) await new Promise<void>((resolve) => (release = resolve));
      running--;
    });
    const first = batcher.add([r('a')]);
    const second = batcher.add([r('b'), r('c')]);
    const third = batcher.add([r('d')]);
    release();
    await Promise.all([first, second, third]);
    expect(writes).toEqual([['a'], ['b', 'c', 'd']]);
    expect(maxRunning).toBe(1);
  });

  it('splits at maxPerWrite, keeps order, and goes on after a failed write', async () => {
    const writes: string[][] = [];
    const batcher = new ReceiptBatcher(async (batch) => {
      writes.push(batch.map((b) => b.mid));
      if (writes.length === 1) throw new Error('database away');
    }, 2);
    await batcher.add(['a', 'b', 'c', 'd', 'e'].map(r));
    expect(writes).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    await batcher.add([]);
    expect(writes).toHaveLength(3);
  });

  it('an add resolves once its own items are written, while later ones keep coming', async () => {
    let writes = 0;
    let firstDoneAt = -1;
    let stream = true;
    const batcher = new ReceiptBatcher(async () => {
      writes++;
      await new Promise((resolve) => setImmediate(resolve));
    });
    const first = batcher.add([r('a')]).then(() => (firstDoneAt = writes));
    // A receipt arrives during every write.
    const feeding = (async () => {
      for (let i = 0; stream && i < 50; i++) {
        void batcher.add([r(`x${i}`)]);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await first;
    stream = false;
    await feeding;
    await batcher.idle();
    expect(firstDoneAt).toBeLessThanOrEqual(2);
  });

  it('idle waits for every add, those merged behind a slow write included', async () => {
    const written: string[] = [];
    let release!: () => void;
    const batcher = new ReceiptBatcher(async (batch) => {
      if (!written.length) await new Promise<void>((resolve) => (release = resolve));
      written.push(...batch.map((b) => b.mid));
    });
    void batcher.add([r('a')]);
    void batcher.add([r('b')]);
    let idle = false;
    const waiting = batcher.idle().then(() => (idle = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle).toBe(false);
    release();
    await waiting;
    expect(written).toEqual(['a', 'b']);
    await batcher.idle();
  });
});

describe('personMessageMid', () => {
  it("takes a person's message or postback, not echoes, receipts or reads", () => {
    expect(personMessageMid({ message: { mid: 'm_1', text: 'hi' } })).toBe('m_1');
    expect(personMessageMid({ postback: { mid: 'm_2', payload: 'GO' } })).toBe('m_2');
    expect(personMessageMid({ message: { mid: 'm_3', is_echo: true } })).toBeUndefined();
    expect(personMessageMid({ delivery: { mids: ['m_4'], watermark: 1 } })).toBeUndefined();
    expect(personMessageMid({ read: { watermark: 1 } })).toBeUndefined();
    expect(personMessageMid({ message: { mid: 5 } })).toBeUndefined();
  });
});
