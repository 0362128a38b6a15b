import { Injectable, Logger } from '@nestjs/common';

// A person's message that reached one of the Page's bots (a webhook acknowledged with 2xx, a hosted script run,
// or an event pulled past by the app's cursor).
export interface ReceivedMessage {
  pageId: string;
  mid: string;
}

type Listener = (received: ReceivedMessage[]) => Promise<void>;

// The webhooks side knows when a bot has an event; messaging turns that into the person's "Delivered".
// A hook, not an import: messaging already depends on webhooks (the outbox), so the arrow can't point back.
@Injectable()
export class DeliveryReceipts {
  private readonly logger = new Logger('DeliveryReceipts');
  private readonly listeners: Listener[] = [];

  onReceived(listener: Listener): void {
    this.listeners.push(listener);
  }

  // Called after the delivery is settled. A receipt is a courtesy to the person: a failure here is logged, and
  // never turns a delivered event back into a retry.
  async received(items: { pageId: string; messaging: Record<string, unknown> }[]): Promise<void> {
    const received: ReceivedMessage[] = [];
    for (const item of items) {
      const mid = personMessageMid(item.messaging);
      if (mid !== undefined) received.push({ pageId: item.pageId, mid });
    }
    if (!received.length || !this.listeners.length) return;
    for (const listener of this.listeners)
      await listener(received).catch((err: Error) => this.logger.warn(`delivery receipt not recorded: ${err.message}`));
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
