// Valid example bodies shared by the specs (not exported from index.ts).
import type { ValidationResult } from './types';

export const str = (n: number, c = 'x') => c.repeat(n);
export const times = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

export const postback = (over: object = {}) => ({ type: 'postback', title: 'Start', payload: 'START', ...over });
export const webUrl = (over: object = {}) => ({
  type: 'web_url',
  title: 'Open',
  url: 'https://example.com/a',
  ...over,
});
export const phone = (over: object = {}) => ({ type: 'phone_number', title: 'Call', payload: '+15105551234', ...over });

export const genericElement = (over: object = {}) => ({ title: 'Title', subtitle: 'Subtitle', ...over });
export const generic = (over: object = {}) => ({ template_type: 'generic', elements: [genericElement()], ...over });
export const buttonTemplate = (over: object = {}) => ({
  template_type: 'button',
  text: 'Pick one',
  buttons: [postback()],
  ...over,
});
export const mediaElement = (over: object = {}) => ({ media_type: 'image', attachment_id: '1234', ...over });
export const media = (over: object = {}) => ({ template_type: 'media', elements: [mediaElement()], ...over });
export const receiptElement = (over: object = {}) => ({ title: 'Classic White T-Shirt', price: 50, ...over });
export const address = (over: object = {}) => ({
  street_1: '1 Hacker Way',
  city: 'Menlo Park',
  postal_code: '94025',
  state: 'CA',
  country: 'US',
  ...over,
});
export const receipt = (over: object = {}) => ({
  template_type: 'receipt',
  recipient_name: 'Stephane Crozatier',
  order_number: '12345678902',
  currency: 'USD',
  payment_method: 'Visa 2345',
  summary: { total_cost: 56.14 },
  ...over,
});

export const coupon = (over: object = {}) => ({
  template_type: 'coupon',
  title: '10% off everything',
  coupon_code: '10PERCENT',
  ...over,
});

/** Meta's complex coupon example (send-messages/template/coupon): every property. */
export const metaCoupon = () =>
  coupon({
    subtitle: '10% off. Limit 1 per customer. Expires on October 1st, 2022',
    coupon_url: 'https://www.myshop.com/',
    coupon_url_button_title: 'Shop now',
    coupon_pre_message: "Here's a deal just for you!",
    image_url: 'https://www.myshop.com/sale-image.png',
    payload: 'The coupon for 10% off everything that expires 2022-10-1',
  });

export const feedbackQuestion = (over: object = {}) => ({ id: 'hauydmns8', type: 'csat', ...over });
export const customerFeedback = (over: object = {}) => ({
  template_type: 'customer_feedback',
  title: 'Rate your experience with Original Coast Clothing.',
  button_title: 'Rate Experience',
  feedback_screens: [{ questions: [feedbackQuestion()] }],
  business_privacy: { url: 'https://www.example.com' },
  ...over,
});

/** Meta's customer feedback example (send-messages/templates/customer-feedback-template): every property. */
export const metaCustomerFeedback = () =>
  customerFeedback({
    subtitle: 'Let Original Coast Clothing know how they are doing by answering two questions',
    feedback_screens: [
      {
        questions: [
          feedbackQuestion({
            title: 'How would you rate your experience with Original Coast Clothing?',
            score_label: 'neg_pos',
            score_option: 'five_stars',
            follow_up: { type: 'free_form', placeholder: 'Give additional feedback' },
          }),
        ],
      },
    ],
    expires_in_days: 3,
  });

/** Marketing messages' opt-in request, as Meta's guide sends it. */
export const notificationMessages = (over: object = {}) => ({
  template_type: 'notification_messages',
  title: 'Get our weekly deals',
  payload: 'DEALS',
  ...over,
});

/** Every property of the opt-in request (Meta's guide, frequency included: deprecated, still accepted). */
export const metaNotificationMessages = () =>
  notificationMessages({
    image_url: 'https://www.myshop.com/deals.png',
    notification_messages_frequency: 'WEEKLY',
    notification_messages_cta_text: 'GET_UPDATES',
    notification_messages_timezone: 'Europe/Paris',
    notification_messages_reoptin: 'ENABLED',
  });

/** Meta's own receipt example (reference/templates/receipt). */
export const metaReceipt = () => ({
  template_type: 'receipt',
  recipient_name: 'Stephane Crozatier',
  order_number: '12345678902',
  currency: 'USD',
  payment_method: 'Visa 2345',
  order_url: 'http://originalcoastclothing.com/order?order_id=123456',
  timestamp: '1428444852',
  address: address({ street_2: '' }),
  summary: { subtotal: 75.0, shipping_cost: 4.95, total_tax: 6.19, total_cost: 56.14 },
  adjustments: [
    { name: 'New Customer Discount', amount: 20 },
    { name: '$10 Off Coupon', amount: 10 },
  ],
  elements: [
    receiptElement({
      subtitle: '100% Soft and Luxurious Cotton',
      quantity: 2,
      currency: 'USD',
      image_url: 'http://originalcoastclothing.com/img/whiteshirt.png',
    }),
    receiptElement({ title: 'Classic Gray T-Shirt', quantity: 1, price: 25, currency: 'USD' }),
  ],
});

export const template = (payload: object) => ({ attachment: { type: 'template', payload } });
export const request = (message: unknown, over: object = {}) => ({
  recipient: { id: '1254477777772919' },
  messaging_type: 'RESPONSE',
  message,
  ...over,
});

/** Valid Send API bodies, one per kind of content. */
export const validRequests = (): object[] => [
  request({ text: 'hello, world' }),
  request({
    text: 'Pick a color:',
    quick_replies: [
      { content_type: 'text', title: 'Red', payload: 'RED', image_url: 'http://example.com/img/red.png' },
      { content_type: 'user_email' },
    ],
  }),
  request({ attachment: { type: 'image', payload: { url: 'https://example.com/cat.png', is_reusable: true } } }),
  request({ attachment: { type: 'file', payload: { attachment_id: '1857777774821032' } } }),
  request(
    template(
      generic({
        elements: [
          genericElement({
            image_url: 'https://example.com/hat.png',
            default_action: { type: 'web_url', url: 'https://example.com' },
            buttons: [webUrl(), postback(), phone()],
          }),
        ],
      }),
    ),
  ),
  request(template(buttonTemplate({ buttons: [webUrl(), postback(), phone()] }))),
  request(template(media({ elements: [mediaElement({ buttons: [webUrl()] })] }))),
  request(template(metaReceipt())),
  request(template(metaCoupon())),
  { recipient: { id: '1254477777772919' }, sender_action: 'typing_on' },
  request(
    { text: 'ticket update' },
    { messaging_type: 'MESSAGE_TAG', tag: 'HUMAN_AGENT', notification_type: 'SILENT_PUSH', reply_to: { mid: 'm_1' } },
  ),
];

export const menu = (over: object = {}) => ({ locale: 'default', call_to_actions: [postback(), webUrl()], ...over });

/** Valid Messenger Profile bodies. */
export const validProfiles = (): object[] => [
  { get_started: { payload: 'GET_STARTED' } },
  {
    greeting: [
      { locale: 'default', text: 'Hello {{user_first_name}}!' },
      { locale: 'fr_FR', text: 'Bonjour {{user_full_name}} !' },
    ],
  },
  { ice_breakers: [{ question: 'Where are you?', payload: 'WHERE' }] },
  { ice_breakers: [{ locale: 'default', call_to_actions: [{ question: 'Hours?', payload: 'HOURS' }] }] },
  { get_started: { payload: 'GO' }, persistent_menu: [menu({ composer_input_disabled: false })] },
  { whitelisted_domains: ['https://example.com', 'https://shop.example.co.uk'] },
];

/** Narrows a result to its error for assertions. */
export function errorOf<T>(result: ValidationResult<T>) {
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

/** Narrows a result to its value for assertions. */
export function valueOf<T>(result: ValidationResult<T>): T {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.message}`);
  return result.value;
}
