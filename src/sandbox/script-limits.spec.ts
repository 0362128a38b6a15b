import { checkPageLimits } from './script-limits';

describe('per-page sandbox limits', () => {
  it('accepts overrides within the ceilings and the runtime bounds', () => {
    expect(checkPageLimits({})).toBeNull();
    expect(checkPageLimits({ cpuMs: 100, wallMs: 5000, memoryMb: 64, maxSends: 20 })).toBeNull();
  });

  it('refuses overrides over a ceiling or under the runtime bounds, naming the limit', () => {
    expect(checkPageLimits({ cpuMs: 60_000 })).toMatch(/cpuMs may be at most 500/);
    expect(checkPageLimits({ memoryMb: 1 })).toMatch(/memoryMb/);
    expect(checkPageLimits({ maxPayloadBytes: 2048 })).toMatch(/maxPayloadBytes cannot be set per page/);
  });

  it("refuses names that are no limit, Object.prototype's included", () => {
    // Read through the ceilings' prototype, these passed (a number is never greater than a function) and were stored.
    for (const key of ['constructor', 'toString', 'hasOwnProperty', 'nope']) {
      expect(checkPageLimits({ [key]: 1 } as never)).toBe(`limits.${key} cannot be set per page`);
    }
  });
});
