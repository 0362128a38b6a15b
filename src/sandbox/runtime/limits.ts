import type { SandboxLimits } from './types';

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  memoryMb: 32,
  cpuMs: 50,
  initCpuMs: 50,
  wallMs: 2000,
  maxSends: 10,
  maxHostCalls: 50,
  maxLogEntries: 100,
  maxLogBytes: 16 * 1024,
  maxPayloadBytes: 64 * 1024,
});

// Bounds on overrides, so a caller's typo cannot switch isolation off.
const BOUNDS: Record<keyof SandboxLimits, [number, number]> = {
  memoryMb: [8, 512],
  cpuMs: [1, 60_000],
  initCpuMs: [1, 60_000],
  wallMs: [10, 600_000],
  maxSends: [0, 1000],
  maxHostCalls: [0, 10_000],
  maxLogEntries: [0, 10_000],
  maxLogBytes: [0, 16 * 1024 * 1024],
  maxPayloadBytes: [1024, 16 * 1024 * 1024],
};

export function resolveLimits(...layers: Array<Partial<SandboxLimits> | undefined>): SandboxLimits {
  const out: SandboxLimits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of Object.keys(BOUNDS) as Array<keyof SandboxLimits>) {
      const value = layer[key];
      if (value === undefined) continue;
      const [min, max] = BOUNDS[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        throw new RangeError(`sandbox limit ${key} must be a number in [${min}, ${max}], got ${String(value)}`);
      }
      out[key] = value;
    }
  }
  return out;
}
