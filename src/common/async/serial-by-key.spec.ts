import { SerialByKey } from './serial-by-key';

describe('SerialByKey', () => {
  it('runs one piece of work at a time per key, in order, past failures, and keys in parallel', async () => {
    const serial = new SerialByKey();
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = serial.run('a', step('a1', 20, true));
    const a2 = serial.run('a', step('a2', 1));
    const b1 = serial.run('b', step('b1', 5));
    await expect(a1).rejects.toThrow('a1');
    await expect(a2).resolves.toBe('a2');
    await expect(b1).resolves.toBe('b1');
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
  });
});
