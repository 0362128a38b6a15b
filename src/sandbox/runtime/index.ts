// The sandbox runtime's public surface. Import from here; the worker files are internal.
export { SandboxPool } from './pool';
export { DEFAULT_LIMITS, resolveLimits } from './limits';
export * from './types';
