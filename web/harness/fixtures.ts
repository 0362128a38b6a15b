// What web/harness/components.tsx draws, one fixture per page (?fixture=<name>), for
// test/e2e/web-components.e2e.ts. Images are data: URLs, so the page needs no network.
import type { MessageView, TextQuickReply } from '../src/api';

const svg = (fill: string) =>
  `data:image/svg+xml,${encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="382" height="200"><rect width="382" height="200" fill="${fill}"/></svg>`)}`;

const page = (mid: string, seq: number, extra: Partial<MessageView>): MessageView => ({
  mid,
  seq,
  sender: 'page',
  timestamp: 1_700_000_000_000 + seq,
  kind: 'message',
  ...extra,
});

export interface Fixture {
  // The messages drawn in order; a reply quotes one of them when it is there.
  messages: MessageView[];
  chips?: TextQuickReply[];
}

export const fixtures: Record<string, Fixture> = {
  generic: {
    messages: [
      page('m_generic', 1, {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'generic',
            elements: [
              {
                title: 'A blue shirt',
                subtitle: 'Soft cotton, blue',
                image_url: svg('blue'),
                default_action: { type: 'web_url', url: 'https://shop.example.com/blue' },
                buttons: [
                  { type: 'postback', title: 'Buy blue', payload: 'BUY_BLUE' },
                  { type: 'web_url', title: 'Details', url: 'https://shop.example.com/blue' },
                ],
              },
              {
                title: 'A red shirt',
                image_url: svg('red'),
                buttons: [
                  { type: 'postback', title: 'Buy red', payload: 'BUY_RED' },
                  { type: 'phone_number', title: 'Call us', payload: '+15105551234' },
                ],
              },
              { title: 'A plain card' },
            ],
          },
        },
      }),
    ],
  },
  button: {
    messages: [
      page('m_button', 1, {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'button',
            text: 'Need help?',
            buttons: [
              { type: 'postback', title: 'Talk to us', payload: 'HELP' },
              { type: 'web_url', title: 'FAQ', url: 'https://shop.example.com/faq' },
            ],
          },
        },
      }),
    ],
  },
  receipt: {
    messages: [
      page('m_receipt', 1, {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'receipt',
            recipient_name: 'Pat Person',
            merchant_name: 'Acme',
            order_number: 'A-1001',
            currency: 'EUR',
            payment_method: 'Visa 1234',
            address: { street_1: '1 Main St', city: 'Springfield', postal_code: '12345', state: 'CA', country: 'US' },
            elements: [
              { title: 'A green shirt', subtitle: 'Size M', quantity: 2, price: 25, image_url: svg('green') },
              { title: 'Socks', price: 5 },
            ],
            adjustments: [{ name: 'Welcome discount', amount: 10 }],
            summary: { subtotal: 55, shipping_cost: 5, total_tax: 9, total_cost: 59 },
          },
        },
      }),
    ],
  },
  'media-template': {
    messages: [
      page('m_media', 1, {
        attachment: {
          type: 'template',
          payload: {
            template_type: 'media',
            elements: [
              {
                media_type: 'image',
                url: svg('purple'),
                buttons: [{ type: 'postback', title: 'More like this', payload: 'MORE' }],
              },
            ],
          },
        },
      }),
      page('m_media_video', 2, {
        attachment: {
          type: 'template',
          payload: { template_type: 'media', elements: [{ media_type: 'video', url: '/no-such/clip.mp4' }] },
        },
      }),
    ],
  },
  attachments: {
    messages: [
      page('m_image', 1, { attachment: { type: 'image', payload: { url: svg('teal') } } }),
      page('m_video', 2, { attachment: { type: 'video', payload: { url: '/no-such/clip.mp4' } } }),
      page('m_audio', 3, { attachment: { type: 'audio', payload: { url: '/no-such/song.mp3' } } }),
      page('m_file', 4, {
        attachment: { type: 'file', payload: { url: 'https://files.example.com/menu%20card.pdf' } },
      }),
      {
        mid: 'm_upload',
        seq: 5,
        sender: 'person',
        timestamp: 1_700_000_000_005,
        kind: 'message',
        text: 'Our beach',
        attachments: [
          {
            type: 'image',
            payload: { media_id: '7', url: svg('orange'), thumbnail_url: svg('orange'), width: 640, height: 480 },
          },
        ],
      },
    ],
  },
  // A signed URL that does not load (as an expired one): the body reports it once per failing element.
  'broken-media': {
    messages: [
      page('m_broken', 1, {
        attachment: { type: 'image', payload: { url: '/media/55/thumb.webp?exp=1&sig=expired' } },
      }),
    ],
  },
  'quick-replies': {
    messages: [page('m_qr', 1, { text: 'Which colour?' })],
    chips: [
      { content_type: 'text', title: 'Red', payload: 'QR_RED' },
      { content_type: 'text', title: 'Blue', payload: 'QR_BLUE', image_url: svg('blue') },
    ],
  },
  replies: {
    messages: [
      { mid: 'm_q', seq: 1, sender: 'person', timestamp: 1, kind: 'message', text: 'Do you ship to Spain?' },
      page('m_photo', 2, { attachment: { type: 'image', payload: { url: svg('gray') } } }),
      page('m_r1', 3, { text: 'Yes, in 3 days', reply_to: { mid: 'm_q' }, notification_type: 'SILENT_PUSH' }),
      page('m_r2', 4, { text: 'This one is on sale', reply_to: { mid: 'm_photo' }, notification_type: 'NO_PUSH' }),
      page('m_r3', 5, { text: 'As I said before', reply_to: { mid: 'm_not_loaded' } }),
    ],
  },
  unsupported: {
    messages: [
      page('m_odd', 1, {
        attachment: {
          type: 'template',
          payload: { template_type: 'airline_boardingpass' },
        } as unknown as MessageView['attachment'],
      }),
    ],
  },
};
