import { Injectable, Logger } from '@nestjs/common';
import { personMessageMid, ReceiptBatcher, ReceivedMessage } from './receipt-batcher';

export type { ReceivedMessage } from './receipt-batcher';

type Listener = (received: ReceivedMessage[]) => Promise<void>;

// The webhooks side knows when a bot has an event; messaging turns that into the person's "Delivered".
// A hook, not an import: messaging already depends on webhooks (the outbox), so the arrow can't point back.
@Injectable()
export class DeliveryReceipts {
  private readonly logger = new Logger('DeliveryReceipts');
  private readonly listeners: Listener[] = [];
  private readonly batcher = new ReceiptBatcher(async (batch) => {
    for (const listener of this.listeners)
      await listener(batch).catch((err: Error) => this.logger.warn(`delivery receipt not recorded: ${err.message}`));
  });

  onReceived(listener: Listener): void {
    this.listeners.push(listener);
  }

  // Called after the delivery is settled. A receipt is a courtesy to the person: a failure here is logged, and
  // never turns a delivered event back into a retry.
  // A standby copy says nothing: "Delivered" is the thread's controller having the message.
  async received(items: { pageId: string; field: string; messaging: Record<string, unknown> }[]): Promise<void> {
    if (!this.listeners.length) return;
    const received: ReceivedMessage[] = [];
    for (const item of items) {
      if (item.field === 'standby') continue;
      const mid = personMessageMid(item.messaging);
      if (mid !== undefined) received.push({ pageId: item.pageId, mid });
    }
    await this.batcher.add(received);
  }

  // Every receipt handed over so far is written (shutdown, before the database closes).
  idle(): Promise<void> {
    return this.batcher.idle();
  }
}
