import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { request } from 'undici';
import { BotReceiver, ReceivedRequest, startBotReceiver } from './bot-receiver';

export interface ReplyingBot {
  receiver: BotReceiver;
  // Every messaging item the bot got, in arrival order.
  items: any[];
  // Whether the bot answers webhooks with 200 (a "broken" bot answers 500 and does nothing).
  healthy: boolean;
  imageBase: string;
  close(): Promise<void>;
}

export type Reply = (
  item: any,
  ctx: { send(message: unknown): Promise<void>; action(a: string): Promise<void> },
) => Promise<void>;

// A bot as a developer writes one: a webhook endpoint (test/support/bot-receiver.ts) that answers each
// message through the Send API with the page token, and a tiny image host for its templates.
// `pageToken(pageId)`: the token of the Page a webhook came from (one app may serve several Pages).
export async function startReplyingBot(
  platformUrl: string,
  pageToken: (pageId: string) => string,
  reply: Reply,
): Promise<ReplyingBot> {
  const receiver = await startBotReceiver('verify-me');
  const images = http.createServer((req, res) => {
    // A PNG for a plain image attachment (the platform fetches and re-encodes it; it stores raster images only).
    const png = /\/img\/(\w+)\.png/.exec(req.url ?? '')?.[1];
    if (png) {
      void sharp({ create: { width: 382, height: 200, channels: 3, background: png } })
        .png()
        .toBuffer()
        .then((bytes) => res.writeHead(200, { 'content-type': 'image/png' }).end(bytes));
      return;
    }
    const color = /\/img\/(\w+)\.svg/.exec(req.url ?? '')?.[1] ?? 'gray';
    res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=60' });
    res.end(
      `<svg xmlns="http://www.w3.org/2000/svg" width="382" height="200"><rect width="382" height="200" fill="${color}"/>` +
        `<circle cx="191" cy="100" r="60" fill="#fff8"/></svg>`,
    );
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  const bot: ReplyingBot = {
    receiver,
    items: [],
    healthy: true,
    imageBase: `http://127.0.0.1:${(images.address() as AddressInfo).port}/img`,
    async close() {
      await receiver.close();
      images.closeAllConnections();
      await new Promise((r) => images.close(r));
    },
  };
  const sendApi = async (pageId: string, body: unknown) => {
    const res = await request(`${platformUrl}/v25.0/me/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pageToken(pageId)}` },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`Send API ${res.statusCode} for page ${pageId} (${pageToken(pageId).slice(0, 8)}…): ${text}`);
  };
  receiver.respond = (req: ReceivedRequest) => {
    if (!bot.healthy) return 500;
    const body = JSON.parse(req.body.toString('utf8'));
    for (const entry of body.entry ?? [])
      for (const item of entry.messaging ?? []) {
        bot.items.push(item);
        if (item.message?.is_echo || (!item.message && !item.postback)) continue;
        const recipient = { id: item.sender.id };
        // Answer after the webhook is acknowledged, as bots should.
        setImmediate(() => {
          void reply(item, {
            send: (message) => sendApi(String(entry.id), { recipient, messaging_type: 'RESPONSE', message }),
            action: (a) => sendApi(String(entry.id), { recipient, sender_action: a }),
          }).catch((err) => bot.items.push({ error: String(err) }));
        });
      }
    return 200;
  };
  return bot;
}
