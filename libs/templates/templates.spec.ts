import {
  address,
  buttonTemplate,
  coupon,
  customerFeedback,
  errorOf,
  feedbackQuestion,
  generic,
  genericElement,
  media,
  mediaElement,
  metaCoupon,
  metaCustomerFeedback,
  metaNotificationMessages,
  metaReceipt,
  notificationMessages,
  phone,
  postback,
  receipt,
  receiptElement,
  request,
  str,
  template,
  times,
  valueOf,
  webUrl,
} from './fixtures';
import { LIMITS, validateSendRequest } from './index';

const P = 'message[attachment][payload]';
const ourUrl = ({ id = '123', variant = 'display.jpg', query = 'exp=1700000000&sig=aB-_9' } = {}) =>
  `https://switchboard.example/media/${id}/${variant}?${query}`;
const OUR_URL = ourUrl();
const NOT_OURS =
  'must be a URL of media on this platform (/media/{id}/{variant}?exp=…&sig=…, as webhooks and echoes carry); upload other media with the Attachment Upload API and send its attachment_id';
const E0 = `${P}[elements][0]`;
type Expect = 'ok' | [param: string, phrase: string] | [param: string, phrase: string, subcode: number];
type Case = [name: string, payload: object, expected: Expect];

function check(payload: object, expected: Expect) {
  const result = validateSendRequest(request(template(payload)));
  if (expected === 'ok') {
    valueOf(result);
    return;
  }
  const [param, phrase, subcode] = expected;
  expect(errorOf(result)).toEqual({ code: 100, param, message: `param ${param} ${phrase}`, ...(subcode ? { subcode } : {}) });
}

const genericCases: Case[] = [
  ['minimal', generic(), 'ok'],
  ['10 elements', generic({ elements: times(10, () => genericElement()) }), 'ok'],
  [
    '11 elements',
    generic({ elements: times(11, () => genericElement()) }),
    [`${P}[elements]`, 'must have at most 10 items'],
  ],
  ['no elements', generic({ elements: [] }), [`${P}[elements]`, 'must have at least 1 item']],
  ['elements missing', generic({ elements: undefined }), [`${P}[elements]`, 'is required']],
  ['elements not an array', generic({ elements: { title: 'x' } }), [`${P}[elements]`, 'must be an array']],
  ['element not an object', generic({ elements: [genericElement(), 'x'] }), [`${P}[elements][1]`, 'must be an object']],
  ['nested array as element', generic({ elements: [[genericElement()]] }), [`${P}[elements][0]`, 'must be an object']],
  ['title of 80', generic({ elements: [genericElement({ title: str(80) })] }), 'ok'],
  [
    'title of 81',
    generic({ elements: [genericElement({ title: str(81) })] }),
    [`${E0}[title]`, 'must be at most 80 characters'],
  ],
  [
    'title of 81 in the 4th element',
    generic({ elements: [genericElement(), genericElement(), genericElement(), genericElement({ title: str(81) })] }),
    [`${P}[elements][3][title]`, 'must be at most 80 characters'],
  ],
  ['title of 80 emoji (code points)', generic({ elements: [genericElement({ title: str(80, '😀') })] }), 'ok'],
  ['title missing', generic({ elements: [{ subtitle: 's' }] }), [`${E0}[title]`, 'is required']],
  ['title empty', generic({ elements: [genericElement({ title: '' })] }), [`${E0}[title]`, 'must not be empty']],
  ['title not a string', generic({ elements: [genericElement({ title: 5 })] }), [`${E0}[title]`, 'must be a string']],
  ['subtitle of 80', generic({ elements: [genericElement({ subtitle: str(80) })] }), 'ok'],
  [
    'subtitle of 81',
    generic({ elements: [genericElement({ subtitle: str(81) })] }),
    [`${E0}[subtitle]`, 'must be at most 80 characters'],
  ],
  [
    'title only',
    generic({ elements: [{ title: 'alone' }] }),
    [E0, 'must set at least one of subtitle, image_url, default_action or buttons besides title'],
  ],
  ['title and image only', generic({ elements: [{ title: 't', image_url: 'https://example.com/i.png' }] }), 'ok'],
  [
    'image_url not a URL',
    generic({ elements: [genericElement({ image_url: 'not a url' })] }),
    [`${E0}[image_url]`, 'must be a valid URL'],
  ],
  [
    'image_url ftp',
    generic({ elements: [genericElement({ image_url: 'ftp://example.com/i.png' })] }),
    [`${E0}[image_url]`, 'must be a valid URL'],
  ],
  [
    'default_action',
    generic({
      elements: [
        genericElement({
          default_action: { type: 'web_url', url: 'https://example.com', webview_height_ratio: 'tall' },
        }),
      ],
    }),
    'ok',
  ],
  [
    'default_action of type postback',
    generic({ elements: [genericElement({ default_action: { type: 'postback', url: 'https://example.com' } })] }),
    [`${E0}[default_action][type]`, 'must be one of [web_url]'],
  ],
  [
    'default_action without url',
    generic({ elements: [genericElement({ default_action: { type: 'web_url' } })] }),
    [`${E0}[default_action][url]`, 'is required'],
  ],
  [
    'default_action not an object',
    generic({ elements: [genericElement({ default_action: 'https://example.com' })] }),
    [`${E0}[default_action]`, 'must be an object'],
  ],
  ['3 buttons', generic({ elements: [genericElement({ buttons: [postback(), webUrl(), phone()] })] }), 'ok'],
  [
    '4 buttons',
    generic({ elements: [genericElement({ buttons: times(4, () => postback()) })] }),
    [`${E0}[buttons]`, 'must have at most 3 items'],
  ],
  ['image_aspect_ratio square', generic({ image_aspect_ratio: 'square' }), 'ok'],
  [
    'image_aspect_ratio wide',
    generic({ image_aspect_ratio: 'wide' }),
    [`${P}[image_aspect_ratio]`, 'must be one of [horizontal, square]'],
  ],
  ['sharable not a boolean', generic({ sharable: 'yes' }), [`${P}[sharable]`, 'must be a boolean']],
];

const buttonTemplateCases: Case[] = [
  ['minimal', buttonTemplate(), 'ok'],
  ['text of 640', buttonTemplate({ text: str(640) }), 'ok'],
  ['text of 641', buttonTemplate({ text: str(641) }), [`${P}[text]`, 'must be at most 640 characters']],
  ['text empty', buttonTemplate({ text: '' }), [`${P}[text]`, 'must not be empty']],
  ['text missing', buttonTemplate({ text: undefined }), [`${P}[text]`, 'is required']],
  ['3 buttons', buttonTemplate({ buttons: [postback(), webUrl(), phone()] }), 'ok'],
  [
    '4 buttons',
    buttonTemplate({ buttons: times(4, () => postback()) }),
    [`${P}[buttons]`, 'must have at most 3 items'],
  ],
  ['no buttons', buttonTemplate({ buttons: [] }), [`${P}[buttons]`, 'must have at least 1 item']],
  ['buttons missing', buttonTemplate({ buttons: undefined }), [`${P}[buttons]`, 'is required']],
];

const mediaCases: Case[] = [
  ['attachment_id', media(), 'ok'],
  ['url of this platform\'s media', media({ elements: [{ media_type: 'video', url: OUR_URL }] }), 'ok'],
  ['url on another host, same shape', media({ elements: [{ media_type: 'image', url: 'http://10.0.0.2:3000/media/1/display.jpg?exp=1&sig=x' }] }), 'ok'],
  ['media id of 20 digits', media({ elements: [{ media_type: 'image', url: ourUrl({ id: '9'.repeat(20) }) }] }), 'ok'],
  ['media id of 21 digits', media({ elements: [{ media_type: 'image', url: ourUrl({ id: '9'.repeat(21) }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['variant of 64 characters', media({ elements: [{ media_type: 'image', url: ourUrl({ variant: 'v'.repeat(64) }) }] }), 'ok'],
  ['variant of 65 characters', media({ elements: [{ media_type: 'image', url: ourUrl({ variant: 'v'.repeat(65) }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  // Graph accepts Facebook URLs here; Switchboard is not Facebook.
  ['a Facebook URL', media({ elements: [{ media_type: 'video', url: 'https://www.facebook.com/page/videos/123/' }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['an external URL', media({ elements: [{ media_type: 'image', url: 'https://example.com/cat.png' }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['our path without sig', media({ elements: [{ media_type: 'image', url: ourUrl({ query: 'exp=1700000000' }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['our path without exp', media({ elements: [{ media_type: 'image', url: ourUrl({ query: 'sig=abc' }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['exp not a number', media({ elements: [{ media_type: 'image', url: ourUrl({ query: 'exp=soon&sig=abc' }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['a media id that is not numeric', media({ elements: [{ media_type: 'image', url: ourUrl({ id: 'abc' }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['an extra path segment', media({ elements: [{ media_type: 'image', url: ourUrl({ variant: 'display.jpg/x' }) }] }), [`${E0}[url]`, NOT_OURS, 2018188]],
  ['a ftp URL of our shape', media({ elements: [{ media_type: 'image', url: 'ftp://h/media/1/display.jpg?exp=1&sig=x' }] }), [`${E0}[url]`, 'must be a valid URL']],
  [
    'two elements',
    media({ elements: [mediaElement(), mediaElement()] }),
    [`${P}[elements]`, 'must have exactly 1 item'],
  ],
  ['no element', media({ elements: [] }), [`${P}[elements]`, 'must have exactly 1 item']],
  [
    'url and attachment_id',
    media({ elements: [mediaElement({ url: 'https://example.com/v.mp4' })] }),
    [`${E0}[attachment_id]`, `must not be combined with ${E0}[url]`],
  ],
  [
    'neither url nor attachment_id',
    media({ elements: [{ media_type: 'image' }] }),
    [E0, 'must set one of url or attachment_id'],
  ],
  [
    'media_type audio',
    media({ elements: [mediaElement({ media_type: 'audio' })] }),
    [`${E0}[media_type]`, 'must be one of [image, video]'],
  ],
  ['media_type missing', media({ elements: [{ attachment_id: '1' }] }), [`${E0}[media_type]`, 'is required']],
  ['url invalid', media({ elements: [{ media_type: 'image', url: 'nope' }] }), [`${E0}[url]`, 'must be a valid URL']],
  ['3 buttons', media({ elements: [mediaElement({ buttons: [postback(), webUrl(), phone()] })] }), 'ok'],
  [
    '4 buttons',
    media({ elements: [mediaElement({ buttons: times(4, () => postback()) })] }),
    [`${E0}[buttons]`, 'must have at most 3 items'],
  ],
];

const receiptCases: Case[] = [
  ['minimal', receipt(), 'ok'],
  ["Meta's example", metaReceipt(), 'ok'],
  ...(['recipient_name', 'order_number', 'currency', 'payment_method', 'summary'].map((field) => [
    `${field} missing`,
    receipt({ [field]: undefined }),
    [`${P}[${field}]`, 'is required'],
  ]) as Case[]),
  ['currency not ISO 4217', receipt({ currency: 'XYZ' }), [`${P}[currency]`, 'must be an ISO 4217 currency code']],
  ['currency of 2 letters', receipt({ currency: 'US' }), [`${P}[currency]`, 'must be an ISO 4217 currency code']],
  ['total_cost missing', receipt({ summary: { subtotal: 1 } }), [`${P}[summary][total_cost]`, 'is required']],
  [
    'total_cost not a number',
    receipt({ summary: { total_cost: 'a lot' } }),
    [`${P}[summary][total_cost]`, 'must be a number'],
  ],
  [
    'subtotal not a number',
    receipt({ summary: { total_cost: 1, subtotal: true } }),
    [`${P}[summary][subtotal]`, 'must be a number'],
  ],
  ['100 elements', receipt({ elements: times(100, () => receiptElement()) }), 'ok'],
  [
    '101 elements',
    receipt({ elements: times(101, () => receiptElement()) }),
    [`${P}[elements]`, 'must have at most 100 items'],
  ],
  ['element title missing', receipt({ elements: [{ price: 1 }] }), [`${E0}[title]`, 'is required']],
  [
    'element title of 81',
    receipt({ elements: [receiptElement({ title: str(81) })] }),
    [`${E0}[title]`, 'must be at most 80 characters'],
  ],
  ['element price missing', receipt({ elements: [{ title: 't' }] }), [`${E0}[price]`, 'is required']],
  ['element price free', receipt({ elements: [receiptElement({ price: 0 })] }), 'ok'],
  [
    'element quantity not a number',
    receipt({ elements: [receiptElement({ quantity: 'two' })] }),
    [`${E0}[quantity]`, 'must be a number'],
  ],
  [
    'element currency bad',
    receipt({ elements: [receiptElement({ currency: 'EURO' })] }),
    [`${E0}[currency]`, 'must be an ISO 4217 currency code'],
  ],
  [
    'element image_url bad',
    receipt({ elements: [receiptElement({ image_url: 'x' })] }),
    [`${E0}[image_url]`, 'must be a valid URL'],
  ],
  ['address without street_2', receipt({ address: address() }), 'ok'],
  ...(['street_1', 'city', 'postal_code', 'state', 'country'].map((field) => [
    `address ${field} missing`,
    receipt({ address: address({ [field]: undefined }) }),
    [`${P}[address][${field}]`, 'is required'],
  ]) as Case[]),
  [
    'adjustment amount missing',
    receipt({ adjustments: [{ name: 'Discount' }] }),
    [`${P}[adjustments][0][amount]`, 'is required'],
  ],
  ['adjustment name missing', receipt({ adjustments: [{ amount: 1 }] }), [`${P}[adjustments][0][name]`, 'is required']],
  [
    'timestamp not digits',
    receipt({ timestamp: 'yesterday' }),
    [`${P}[timestamp]`, 'must be a UNIX timestamp in seconds'],
  ],
  ['order_url bad', receipt({ order_url: 'order 123' }), [`${P}[order_url]`, 'must be a valid URL']],
];

const couponCases: Case[] = [
  ['a code', coupon(), 'ok'],
  ["Meta's complex example", metaCoupon(), 'ok'],
  ['a URL and no code', coupon({ coupon_code: undefined, coupon_url: 'https://shop.example/sale' }), 'ok'],
  ['title of 80 emoji (code points)', coupon({ title: str(80, '🎁') }), 'ok'],
  ['title missing', coupon({ title: undefined }), [`${P}[title]`, 'is required']],
  ['title empty', coupon({ title: '' }), [`${P}[title]`, 'must not be empty']],
  ['title of 81', coupon({ title: str(81) }), [`${P}[title]`, 'must be at most 80 characters']],
  ['subtitle of 80', coupon({ subtitle: str(80) }), 'ok'],
  ['subtitle of 81', coupon({ subtitle: str(81) }), [`${P}[subtitle]`, 'must be at most 80 characters']],
  ['neither code nor URL', coupon({ coupon_code: undefined }), [P, 'must set one of coupon_code or coupon_url']],
  // Reported before the code's own rules, where the code stands in Meta's table.
  ['neither, and a bad image_url after', { template_type: 'coupon', title: 't', image_url: 'x' }, [P, 'must set one of coupon_code or coupon_url']],
  ['code with a space', coupon({ coupon_code: '10 PERCENT' }), [`${P}[coupon_code]`, 'must not contain spaces']],
  ['code with a tab', coupon({ coupon_code: '10\tOFF' }), [`${P}[coupon_code]`, 'must not contain spaces']],
  ['code with a zero-width space', coupon({ coupon_code: 'TEN\u200bOFF' }), [`${P}[coupon_code]`, 'must not contain spaces']],
  ['code empty', coupon({ coupon_code: '' }), [`${P}[coupon_code]`, 'must not be empty']],
  ['code of 1000', coupon({ coupon_code: str(1000) }), 'ok'],
  ['code of 1001', coupon({ coupon_code: str(1001) }), [`${P}[coupon_code]`, 'must be at most 1000 characters']],
  ['code an object', coupon({ coupon_code: { code: 'X' } }), [`${P}[coupon_code]`, 'must be a string']],
  ['coupon_url not a URL', coupon({ coupon_url: 'myshop' }), [`${P}[coupon_url]`, 'must be a valid URL']],
  ['coupon_url javascript:', coupon({ coupon_url: 'javascript:alert(1)' }), [`${P}[coupon_url]`, 'must be a valid URL']],
  ['button title of 20', coupon({ coupon_url: 'https://x.y', coupon_url_button_title: str(20) }), 'ok'],
  [
    'button title of 21',
    coupon({ coupon_url: 'https://x.y', coupon_url_button_title: str(21) }),
    [`${P}[coupon_url_button_title]`, 'must be at most 20 characters'],
  ],
  ['pre-message of 1999', coupon({ coupon_pre_message: str(1999) }), 'ok'],
  [
    'pre-message of 2000',
    coupon({ coupon_pre_message: str(2000) }),
    [`${P}[coupon_pre_message]`, 'must be fewer than 2000 characters'],
  ],
  ['image_url not a URL', coupon({ image_url: 'sale.png' }), [`${P}[image_url]`, 'must be a valid URL']],
  ['payload of 1000', coupon({ payload: str(1000) }), 'ok'],
  ['payload of 1001', coupon({ payload: str(1001) }), [`${P}[payload]`, 'must be at most 1000 characters']],
  ['payload an array', coupon({ payload: ['a'] }), [`${P}[payload]`, 'must be a string']],
  // In the order of Meta's table: title before subtitle before the code.
  ['several faults: the first in schema order', coupon({ coupon_code: 'a b', subtitle: str(81), title: '' }), [`${P}[title]`, 'must not be empty']],
];

const Q0 = `${P}[feedback_screens][0][questions][0]`;
const withQuestion = (over: object) => customerFeedback({ feedback_screens: [{ questions: [feedbackQuestion(over)] }] });
const feedbackCases: Case[] = [
  ['one CSAT question', customerFeedback(), 'ok'],
  ["Meta's example", metaCustomerFeedback(), 'ok'],
  ['NPS', withQuestion({ type: 'nps', score_option: 'zero_to_ten' }), 'ok'],
  ['CES', withQuestion({ type: 'ces' }), 'ok'],
  ['CSAT as emojis', withQuestion({ score_option: 'five_emojis', score_label: 'pos_neg' }), 'ok'],
  ['title missing', customerFeedback({ title: undefined }), [`${P}[title]`, 'is required']],
  ['title of 81', customerFeedback({ title: str(81) }), [`${P}[title]`, 'must be at most 80 characters']],
  ['subtitle of 81', customerFeedback({ subtitle: str(81) }), [`${P}[subtitle]`, 'must be at most 80 characters']],
  ['button_title missing', customerFeedback({ button_title: undefined }), [`${P}[button_title]`, 'is required']],
  ['button_title of 21', customerFeedback({ button_title: str(21) }), [`${P}[button_title]`, 'must be at most 20 characters']],
  ['no screens', customerFeedback({ feedback_screens: [] }), [`${P}[feedback_screens]`, 'must have exactly 1 item']],
  [
    'two screens',
    customerFeedback({ feedback_screens: [{ questions: [feedbackQuestion()] }, { questions: [feedbackQuestion({ id: 'b' })] }] }),
    [`${P}[feedback_screens]`, 'must have exactly 1 item'],
  ],
  [
    'two questions',
    customerFeedback({ feedback_screens: [{ questions: [feedbackQuestion(), feedbackQuestion({ id: 'b' })] }] }),
    [`${P}[feedback_screens][0][questions]`, 'must have exactly 1 item'],
  ],
  ['question id missing', withQuestion({ id: undefined }), [`${Q0}[id]`, 'is required']],
  ['question id with a space', withQuestion({ id: 'my question' }), [`${Q0}[id]`, 'must be letters, digits, "_" or "-"']],
  ['question id of 81', withQuestion({ id: str(81) }), [`${Q0}[id]`, 'must be at most 80 characters']],
  ['question id a number', withQuestion({ id: 7 }), 'ok'],
  ['unknown type', withQuestion({ type: 'stars' }), [`${Q0}[type]`, 'must be one of [csat, nps, ces]']],
  ['NPS on five stars', withQuestion({ type: 'nps', score_option: 'five_stars' }), [`${Q0}[score_option]`, 'must be one of [zero_to_ten]']],
  ['CES on zero to ten', withQuestion({ type: 'ces', score_option: 'zero_to_ten' }), [`${Q0}[score_option]`, 'must be one of [one_to_seven]']],
  ['unknown score_label', withQuestion({ score_label: 'up' }), [`${Q0}[score_label]`, 'must be one of [neg_pos, pos_neg]']],
  ['question title of 81', withQuestion({ title: str(81) }), [`${Q0}[title]`, 'must be at most 80 characters']],
  ['follow_up of another type', withQuestion({ follow_up: { type: 'stars' } }), [`${Q0}[follow_up][type]`, 'must be one of [free_form]']],
  ['placeholder of 81', withQuestion({ follow_up: { type: 'free_form', placeholder: str(81) } }), [`${Q0}[follow_up][placeholder]`, 'must be at most 80 characters']],
  ['business_privacy missing', customerFeedback({ business_privacy: undefined }), [`${P}[business_privacy]`, 'is required']],
  ['privacy url not a URL', customerFeedback({ business_privacy: { url: 'privacy' } }), [`${P}[business_privacy][url]`, 'must be a valid URL']],
  ['expires in 7 days', customerFeedback({ expires_in_days: 7 }), 'ok'],
  ['expires in 8 days', customerFeedback({ expires_in_days: 8 }), [`${P}[expires_in_days]`, 'must be a whole number of days from 1 to 7']],
  ['expires in 0 days', customerFeedback({ expires_in_days: 0 }), [`${P}[expires_in_days]`, 'must be a whole number of days from 1 to 7']],
  ['expires in 1.5 days', customerFeedback({ expires_in_days: 1.5 }), [`${P}[expires_in_days]`, 'must be a whole number of days from 1 to 7']],
];

const B0 = `${P}[buttons][0]`;
const buttonCases: Case[] = [
  [
    'web_url',
    buttonTemplate({
      buttons: [
        webUrl({ webview_height_ratio: 'full', messenger_extensions: true, fallback_url: 'https://example.com/f' }),
      ],
    }),
    'ok',
  ],
  ['web_url title of 20', buttonTemplate({ buttons: [webUrl({ title: str(20) })] }), 'ok'],
  [
    'web_url title of 21',
    buttonTemplate({ buttons: [webUrl({ title: str(21) })] }),
    [`${B0}[title]`, 'must be at most 20 characters'],
  ],
  [
    'web_url title missing',
    buttonTemplate({ buttons: [webUrl({ title: undefined })] }),
    [`${B0}[title]`, 'is required'],
  ],
  ['web_url url missing', buttonTemplate({ buttons: [webUrl({ url: undefined })] }), [`${B0}[url]`, 'is required']],
  [
    'web_url javascript: url',
    buttonTemplate({ buttons: [webUrl({ url: 'javascript:alert(1)' })] }),
    [`${B0}[url]`, 'must be a valid URL'],
  ],
  [
    'web_url height huge',
    buttonTemplate({ buttons: [webUrl({ webview_height_ratio: 'huge' })] }),
    [`${B0}[webview_height_ratio]`, 'must be one of [compact, tall, full]'],
  ],
  [
    'web_url fallback_url bad',
    buttonTemplate({ buttons: [webUrl({ fallback_url: 'x' })] }),
    [`${B0}[fallback_url]`, 'must be a valid URL'],
  ],
  ['postback payload of 1000', buttonTemplate({ buttons: [postback({ payload: str(1000) })] }), 'ok'],
  [
    'postback payload of 1001',
    buttonTemplate({ buttons: [postback({ payload: str(1001) })] }),
    [`${B0}[payload]`, 'must be at most 1000 characters'],
  ],
  [
    'postback payload missing',
    buttonTemplate({ buttons: [postback({ payload: undefined })] }),
    [`${B0}[payload]`, 'is required'],
  ],
  [
    'postback title of 21',
    buttonTemplate({ buttons: [postback({ title: str(21) })] }),
    [`${B0}[title]`, 'must be at most 20 characters'],
  ],
  ['phone_number +E.164', buttonTemplate({ buttons: [phone({ payload: '+15105551234' })] }), 'ok'],
  [
    'phone_number without +',
    buttonTemplate({ buttons: [phone({ payload: '15105551234' })] }),
    [`${B0}[payload]`, 'must be a phone number in +E.164 format (e.g. +15105551234)'],
  ],
  [
    'phone_number with spaces',
    buttonTemplate({ buttons: [phone({ payload: '+1 510 555 1234' })] }),
    [`${B0}[payload]`, 'must be a phone number in +E.164 format (e.g. +15105551234)'],
  ],
  [
    'phone_number title of 21',
    buttonTemplate({ buttons: [phone({ title: str(21) })] }),
    [`${B0}[title]`, 'must be at most 20 characters'],
  ],
  [
    'unknown button type',
    buttonTemplate({ buttons: [{ type: 'element_share' }] }),
    [`${B0}[type]`, 'must be one of [web_url, postback, phone_number, account_link, account_unlink]'],
  ],
  ['account_link without url', buttonTemplate({ buttons: [{ type: 'account_link' }] }), [`${B0}[url]`, 'is required']],
  [
    'account_link over plain http to another machine',
    buttonTemplate({ buttons: [{ type: 'account_link', url: 'http://example.com/login' }] }),
    [`${B0}[url]`, 'must be an https URL'],
  ],
  [
    'account_link url not a URL',
    buttonTemplate({ buttons: [{ type: 'account_link', url: 'javascript:alert(1)' }] }),
    [`${B0}[url]`, 'must be a valid URL'],
  ],
  ['button type missing', buttonTemplate({ buttons: [{ title: 't', payload: 'p' }] }), [`${B0}[type]`, 'is required']],
  ['button not an object', buttonTemplate({ buttons: [postback(), null] }), [`${P}[buttons][1]`, 'must be an object']],
];

const dispatchCases: Case[] = [
  [
    'unknown template_type',
    { template_type: 'list', elements: [] },
    [`${P}[template_type]`, 'must be one of [generic, button, media, receipt, coupon, customer_feedback, notification_messages]'],
  ],
  ['template_type missing', { elements: [genericElement()] }, [`${P}[template_type]`, 'is required']],
];

const nm = notificationMessages;
const notificationMessagesCases: Case[] = [
  ['title and payload', nm(), 'ok'],
  ['every property', metaNotificationMessages(), 'ok'],
  ['title of 65 emoji (code points)', nm({ title: str(65, '📣') }), 'ok'],
  ['title missing', nm({ title: undefined }), [`${P}[title]`, 'is required']],
  ['title empty', nm({ title: '' }), [`${P}[title]`, 'must not be empty']],
  ['title of 66', nm({ title: str(66) }), [`${P}[title]`, 'must be at most 65 characters']],
  ['payload missing', nm({ payload: undefined }), [`${P}[payload]`, 'is required']],
  ['payload empty', nm({ payload: '' }), [`${P}[payload]`, 'must not be empty']],
  ['payload of 1000', nm({ payload: str(1000) }), 'ok'],
  ['payload of 1001', nm({ payload: str(1001) }), [`${P}[payload]`, 'must be at most 1000 characters']],
  ['payload a number', nm({ payload: 7 }), 'ok'],
  ['image_url not a URL', nm({ image_url: 'deals.png' }), [`${P}[image_url]`, 'must be a valid URL']],
  ['frequency lower-case', nm({ notification_messages_frequency: 'daily' }), 'ok'],
  ['frequency unknown', nm({ notification_messages_frequency: 'HOURLY' }), [`${P}[notification_messages_frequency]`, 'must be one of [DAILY, WEEKLY, MONTHLY]']],
  ...(['ALLOW', 'GET', 'GET_UPDATES', 'OPT_IN', 'SIGN_UP'].map((cta) => [`cta ${cta}`, nm({ notification_messages_cta_text: cta }), 'ok']) as Case[]),
  [
    'cta unknown',
    nm({ notification_messages_cta_text: 'SUBSCRIBE' }),
    [`${P}[notification_messages_cta_text]`, 'must be one of [ALLOW, GET, GET_UPDATES, OPT_IN, SIGN_UP]'],
  ],
  ['timezone UTC', nm({ notification_messages_timezone: 'UTC' }), 'ok'],
  ['timezone unknown', nm({ notification_messages_timezone: 'Mars/Olympus' }), [`${P}[notification_messages_timezone]`, 'must be a time zone name such as UTC or Europe/Paris']],
  ['timezone a number', nm({ notification_messages_timezone: 2 }), [`${P}[notification_messages_timezone]`, 'must be a string']],
  ['reoptin DISABLED', nm({ notification_messages_reoptin: 'DISABLED' }), 'ok'],
  ['reoptin unknown', nm({ notification_messages_reoptin: 'YES' }), [`${P}[notification_messages_reoptin]`, 'must be one of [ENABLED, DISABLED]']],
];

describe.each([
  ['generic template', genericCases],
  ['button template', buttonTemplateCases],
  ['media template', mediaCases],
  ['receipt template', receiptCases],
  ['coupon template', couponCases],
  ['customer feedback template', feedbackCases],
  ['notification_messages template', notificationMessagesCases],
  ['buttons', buttonCases],
  ['template_type', dispatchCases],
])('%s', (_, cases) => {
  it.each(cases)('%s', (_name, payload, expected) => check(payload, expected));
});

describe('template normalization', () => {
  const payloadOf = (payload: object) => {
    const value = valueOf(validateSendRequest(request(template(payload))));
    return (value.message!.attachment as { payload: unknown }).payload;
  };

  it('takes Log In and Log Out buttons, dropping a title Messenger would not draw', () => {
    expect(
      payloadOf(
        buttonTemplate({
          buttons: [
            { type: 'account_link', url: 'https://shop.example/login?x=1', title: 'ignored' },
            { type: 'account_unlink', title: 'ignored' },
            { type: 'account_link', url: 'http://127.0.0.1:8080/login' },
          ],
        }),
      ),
    ).toEqual({
      template_type: 'button',
      text: expect.any(String),
      buttons: [
        { type: 'account_link', url: 'https://shop.example/login?x=1' },
        { type: 'account_unlink' },
        { type: 'account_link', url: 'http://127.0.0.1:8080/login' },
      ],
    });
  });

  it('drops unknown fields inside templates silently (Graph ignores them)', () => {
    expect(
      payloadOf(
        generic({ top_element_style: 'large', elements: [genericElement({ item_url: 'https://x.y', foo: 1 })] }),
      ),
    ).toEqual({
      template_type: 'generic',
      elements: [{ title: 'Title', subtitle: 'Subtitle' }],
    });
  });

  it('coerces form-style scalars: numeric strings, "true", numbers as payloads, lower-case enums', () => {
    expect(
      payloadOf(
        receipt({
          currency: 'usd',
          timestamp: 1428444852,
          order_number: 42,
          summary: { total_cost: '56.14' },
          elements: [receiptElement({ price: '50', quantity: '2' })],
          sharable: 'true',
        }),
      ),
    ).toEqual({
      template_type: 'receipt',
      sharable: true,
      recipient_name: 'Stephane Crozatier',
      order_number: '42',
      currency: 'USD',
      payment_method: 'Visa 2345',
      timestamp: '1428444852',
      elements: [{ title: 'Classic White T-Shirt', quantity: 2, price: 50 }],
      summary: { total_cost: 56.14 },
    });
    expect(
      payloadOf(
        buttonTemplate({
          buttons: [postback({ payload: 7 }), webUrl({ webview_height_ratio: 'TALL', messenger_extensions: 'false' })],
        }),
      ),
    ).toEqual({
      template_type: 'button',
      text: 'Pick one',
      buttons: [
        { type: 'postback', title: 'Start', payload: '7' },
        {
          type: 'web_url',
          title: 'Open',
          url: 'https://example.com/a',
          webview_height_ratio: 'tall',
          messenger_extensions: false,
        },
      ],
    });
  });

  // PHP's http_build_query (pimax/fb-messenger-php, Facebook's PHP SDK) writes true and false as "1" and "0".
  it('takes "1" and "0" as booleans, and no other number-like string', () => {
    expect(payloadOf(receipt({ sharable: '1' }))).toMatchObject({ sharable: true });
    expect(payloadOf(buttonTemplate({ buttons: [webUrl({ messenger_extensions: '0' })] }))).toMatchObject({
      buttons: [{ messenger_extensions: false }],
    });
    for (const bad of ['2', 'yes', 1]) {
      expect(errorOf(validateSendRequest(request(template(receipt({ sharable: bad })))))).toMatchObject({ code: 100 });
    }
  });

  it('keeps a coupon in the order of Meta\'s table, coerces numbers to strings, drops what it does not know', () => {
    expect(
      payloadOf({
        payload: 20221001,
        image_url: 'https://www.myshop.com/sale-image.png',
        coupon_code: 42,
        expire_time: '2025-10-25 16:00:00',
        title: 'Summer',
        template_type: 'coupon',
        subtitle: null,
      }),
    ).toEqual({ template_type: 'coupon', title: 'Summer', coupon_code: '42', image_url: 'https://www.myshop.com/sale-image.png', payload: '20221001' });
    expect(Object.keys(payloadOf(metaCoupon()) as object)).toEqual([
      'template_type',
      'title',
      'subtitle',
      'coupon_code',
      'coupon_pre_message',
      'coupon_url',
      'coupon_url_button_title',
      'image_url',
      'payload',
    ]);
  });

  it('keeps a customer feedback request whole, coerces form-style scalars, drops what it does not know', () => {
    expect(payloadOf(metaCustomerFeedback())).toEqual(metaCustomerFeedback());
    expect(
      payloadOf(
        customerFeedback({
          expires_in_days: '2',
          feedback_screens: [{ questions: [feedbackQuestion({ id: 42, type: 'NPS', score_option: 'Zero_To_Ten', weight: 3 })], next: 1 }],
          tracking: 'x',
        }),
      ),
    ).toEqual({
      template_type: 'customer_feedback',
      title: 'Rate your experience with Original Coast Clothing.',
      button_title: 'Rate Experience',
      feedback_screens: [{ questions: [{ id: '42', type: 'nps', score_option: 'zero_to_ten' }] }],
      business_privacy: { url: 'https://www.example.com' },
      expires_in_days: 2,
    });
  });

  it('keeps the limits it tests in LIMITS', () => {
    expect(LIMITS).toMatchObject({
      genericElements: 10,
      elementTitle: 80,
      buttonTemplateText: 640,
      receiptElements: 100,
      buttonTitle: 20,
      payload: 1000,
      couponTitle: 80,
      couponSubtitle: 80,
      couponCode: 1000,
      couponUrlButtonTitle: 20,
    });
  });
});
