import type { PersonEvent } from '../person-events';

export interface OrderedStreamIo {
  // Stored events with cursor > after, ascending, at most `limit`.
  fetchAfter(after: number, limit: number): Promise<PersonEvent[]>;
  // Returns (or resolves) false when the consumer is gone (closed or too slow a socket): the stream stops.
  // It may wait for the consumer to drain: live events queue meanwhile, up to `maxQueued`.
  send(event: PersonEvent): boolean | Promise<boolean>;
  onError?(err: unknown): void;
}

// Turns live pub/sub events (which may arrive late, twice or out of order) plus the database into one
// gap-free, duplicate-free sequence per consumer. A gap means "read Postgres from the last cursor sent":
// cursors commit in order, so everything up to a cursor we were told about is there to read.
export class OrderedEventStream {
  private readonly live: PersonEvent[] = [];
  private needFetch = false;
  private started = false;
  private running = false;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private lastSent: number,
    private readonly io: OrderedStreamIo,
    opts: { batch?: number; maxQueued?: number } = {},
  ) {
    this.batch = opts.batch ?? 500;
    this.maxQueued = opts.maxQueued ?? 1000;
  }

  private readonly maxQueued: number;
  // Per thread, the highest seq of a message sent: a typing_on carries the thread's seq when it was sent, and one
  // that a later message already ended (queued live while a catch-up read sent that message) is dropped, or the
  // person would see "typing…" after the reply until the timeout.
  private readonly messageSeq = new Map<string, number>();

  private staleTyping(e: PersonEvent): boolean {
    if (e.type === 'typing') return e.on && (this.messageSeq.get(e.thread_id) ?? -1) > e.seq;
    if (e.type === 'message') {
      if (this.messageSeq.size >= 10_000 && !this.messageSeq.has(e.thread_id)) this.messageSeq.clear();
      this.messageSeq.set(e.thread_id, Math.max(e.seq, this.messageSeq.get(e.thread_id) ?? -1));
    }
    return false;
  }

  // Live events pushed before this wait; the first run reads Postgres after the starting cursor, so a
  // consumer that subscribes first and starts second misses nothing published in between.
  start(catchUp = true): void {
    this.started = true;
    this.needFetch = catchUp;
    this.kick();
  }

  private readonly batch: number;

  get cursor(): number {
    return this.lastSent;
  }

  push(event: PersonEvent): void {
    if (this.stopped) return;
    if (this.live.length >= this.maxQueued) {
      // Don't hold a slow consumer's backlog in memory: Postgres has every stored event.
      this.live.length = 0;
      this.needFetch = true;
    }
    this.live.push(event);
    this.kick();
  }

  // Live events may have been lost (the bus reconnected): read Postgres from the last cursor sent.
  resync(): void {
    if (this.stopped) return;
    this.needFetch = true;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.live.length = 0;
  }

  // Resolves once everything pushed so far has been handled (tests, shutdown).
  drained(): Promise<void> {
    return this.idle;
  }

  private kick(): void {
    if (this.running || this.stopped || !this.started) return;
    this.running = true;
    this.idle = this.run()
      .catch((err) => {
        // The consumer is told once and the stream ends: it reconnects with its cursor.
        this.stop();
        this.io.onError?.(err);
      })
      .finally(() => {
        this.running = false;
        if (!this.stopped && (this.live.length || this.needFetch)) this.kick();
      });
  }

  private async emit(e: PersonEvent): Promise<boolean> {
    if (this.stopped) return false;
    if (this.staleTyping(e)) return true;
    if (!(await this.io.send(e))) {
      this.stop();
      return false;
    }
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.needFetch) {
        // Cleared before the read, so a resync or gap that comes while it runs asks for another read.
        this.needFetch = false;
        const rows = await this.io.fetchAfter(this.lastSent, this.batch);
        for (const r of rows) {
          if (r.cursor === undefined || r.cursor <= this.lastSent) continue;
          if (!(await this.emit(r))) return;
          this.lastSent = r.cursor;
        }
        if (rows.length >= this.batch) this.needFetch = true;
        if (this.needFetch) continue;
      }
      const e = this.live.shift();
      if (!e) return;
      if (e.cursor === undefined) {
        if (!(await this.emit(e))) return;
      } else if (e.cursor === this.lastSent + 1) {
        if (!(await this.emit(e))) return;
        this.lastSent = e.cursor;
      } else if (e.cursor > this.lastSent + 1) {
        // Something before it has not reached us (yet): Postgres has it.
        this.needFetch = true;
      }
      // e.cursor <= lastSent: already sent, a duplicate.
    }
  }
}
