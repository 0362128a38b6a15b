// Rejects with `late()` once `ms` pass before `work` settles (0 or less: no deadline). The timer is cleared as soon
// as `work` settles, so a deadline that passes unused keeps nothing alive. `work` itself is not cancelled.
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
