// Nest-free: the batching behind DeliveryReceipts (delivery-receipts.ts), tested in receipt-batcher.spec.ts.

// A person's message that reached one of the Page's bots (a webhook acknowledged with 2xx, a hosted script run,
// or an event pulled past by the app's cursor).
export interface ReceivedMessage {
  pageId: string;
  mid: string;
}

// At most one `write` runs at a time: what arrives meanwhile is merged into the next one (up to `maxPerWrite`
// items), so a burst of settled batches never holds more than one database connection.
export class ReceiptBatcher {
  private pending: ReceivedMessage[] = [];
  private flushing: Promise<void> | null = null;
  // Items ever added, and ever taken by a write that has ended.
  private added = 0;
  private written = 0;
  // Calls of add not yet done, for idle.
  private readonly adding = new Set<Promise<void>>();

  constructor(
    private readonly write: (batch: ReceivedMessage[]) => Promise<void>,
    private readonly maxPerWrite = 1000,
  ) {}

  // Resolves once these items are written (or their write failed: the writer reports its own errors).
  add(items: ReceivedMessage[]): Promise<void> {
    const adding: Promise<void> = this.flush(items).finally(() => this.adding.delete(adding));
    this.adding.add(adding);
    return adding;
  }

  // Resolves once everything added so far is written: shutdown waits for it before the database closes, or
  // what waited behind a slow write would be dropped.
  async idle(): Promise<void> {
    await Promise.allSettled([...this.adding]);
  }

  // Items are written in the order they were added; each call waits for its own, not for the queue to empty,
  // which under a steady stream of receipts it never would (a hosted script's job awaits its receipt).
  private async flush(items: ReceivedMessage[]): Promise<void> {
    if (!items.length) return;
    this.pending.push(...items);
    const mine = (this.added += items.length);
    while (this.written < mine) {
      if (this.flushing) {
        await this.flushing;
        continue;
      }
      const batch = this.pending.splice(0, this.maxPerWrite);
      this.flushing = this.write(batch)
        .catch(() => undefined)
        .finally(() => {
          this.written += batch.length;
          this.flushing = null;
        });
      await this.flushing;
    }
  }
}

// The mid of a person-side message or postback item; echoes, receipts and reads carry none worth a "Delivered".
export function personMessageMid(messaging: Record<string, unknown>): string | undefined {
  const message = messaging.message as { mid?: unknown; is_echo?: unknown } | undefined;
  if (message && !message.is_echo && typeof message.mid === 'string') return message.mid;
  const postback = messaging.postback as { mid?: unknown } | undefined;
  if (postback && typeof postback.mid === 'string') return postback.mid;
  return undefined;
}
