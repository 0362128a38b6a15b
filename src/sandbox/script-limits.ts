import { resolveLimits, type SandboxLimits } from './runtime';

// What a Page's admin may raise the limits to: a Page may not take a worker's CPU or memory from other Pages.
export const PAGE_LIMIT_CEILINGS: Readonly<Partial<SandboxLimits>> = Object.freeze({
  memoryMb: 128,
  cpuMs: 500,
  initCpuMs: 500,
  wallMs: 10_000,
  maxSends: 50,
  maxHostCalls: 200,
  maxLogEntries: 500,
  maxLogBytes: 64 * 1024,
});

// Null when the overrides are acceptable; otherwise the reason, naming the limit.
export function checkPageLimits(limits: Partial<SandboxLimits>): string | null {
  for (const [key, value] of Object.entries(limits) as [keyof SandboxLimits, number][]) {
    // Own keys only: `constructor` and the rest of Object.prototype are no limits.
    const ceiling = Object.hasOwn(PAGE_LIMIT_CEILINGS, key) ? PAGE_LIMIT_CEILINGS[key] : undefined;
    if (ceiling === undefined) return `limits.${key} cannot be set per page`;
    if (value > ceiling) return `limits.${key} may be at most ${ceiling}`;
  }
  try {
    resolveLimits(limits);
  } catch (err) {
    return (err as Error).message;
  }
  return null;
}
