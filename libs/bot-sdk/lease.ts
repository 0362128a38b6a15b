// Keeps an event's lease in the dedupe store while its handlers run, so a handler that runs longer than the lease
// isn't run again beside itself by a redelivery (to this replica or another). Plain timers: the bot wires the store.

export interface LeaseRenewal {
  // How often the lease is extended (a third of it, say: two renewals can fail before it lapses).
  everyMs: number;
  // Renewals stop once the handlers have run this long (presumed stuck): the lease then lapses, as after a crash.
  forMs: number;
  // Extends the lease; true while it is still this delivery's, false once it was lost (lapsed, or taken by another).
  extend: () => Promise<boolean>;
  onLost: () => void;
  // The store failed (threw, no answer): the lease may still hold, so the next renewal tries again.
  onFailed: (err: unknown) => void;
  onGaveUp: () => void;
}

export interface LeaseKeeper {
  // True once a renewal found the lease lost.
  readonly lost: boolean;
  // Stops renewing, after the renewal in flight (if any) has answered: the caller finishes or releases the key next,
  // and a renewal landing after that would find it done and call it lost.
  stop(): Promise<void>;
}

// The longest wait setTimeout takes: past it Node waits 1 ms instead (a long lease would be renewed in a loop).
// Renewing sooner than asked only keeps the lease safer.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function keepLease(r: LeaseRenewal): LeaseKeeper {
  const since = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lost = false;
  let inFlight: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(tick, Math.min(r.everyMs, MAX_TIMER_MS));
    // A handler that never settles must not keep the process alive through its renewals.
    timer.unref?.();
  };
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    if (Date.now() - since >= r.forMs) return r.onGaveUp();
    inFlight = Promise.resolve()
      .then(r.extend)
      .then(
        (held) => {
          if (!held && !stopped) {
            lost = true;
            r.onLost();
          }
        },
        (err) => {
          if (!stopped) r.onFailed(err);
        },
      )
      .then(() => {
        if (!stopped && !lost) schedule();
      });
  };
  schedule();
  return {
    get lost() {
      return lost;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}
