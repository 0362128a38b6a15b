import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { httpClient, HttpClient } from '../support/http-client';
import { anyQueryText, anyText, expectNo5xx, fuzzBody } from '../support/fuzz-request';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { conversationWithPsid, personSays } from '../factories/messaging.factory';

// Random bodies, query strings and headers at the Send API, the attachment upload, Messenger Profile and
// User Profile: never a 5xx, always Graph's envelope, and nothing stored when a request is refused.
describe('send api and profile routes under random input', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let c: Awaited<ReturnType<typeof conversationWithPsid>>;

  beforeAll(async () => {
    // Messenger Profile's own limit (10 per 10 min) would turn most profile calls into 429s: lifted here so
    // the property reaches validation; send-api-limits.e2e.ts tests the limit.
    t = await startTestPlatform({ redis: false, env: { MESSENGER_PROFILE_RATE_CALLS: '1000000' } });
    api = httpClient(t.url);
    // No webhook subscription: the worker writes nothing behind the test's back.
    c = await conversationWithPsid(api, t.db);
    await personSays(api, c.person, c.thread.id, 'hi');
  });
  afterAll(async () => t?.close());

  const routes = () => [
    { method: 'POST', path: '/v25.0/me/messages' },
    { method: 'POST', path: `/v3.1/${c.page.id}/messages` },
    { method: 'POST', path: '/v25.0/me/message_attachments' },
    { method: 'POST', path: '/v25.0/me/messenger_profile' },
    { method: 'GET', path: '/v25.0/me/messenger_profile' },
    { method: 'DELETE', path: '/v25.0/me/messenger_profile' },
    { method: 'GET', path: `/v25.0/${c.psid}` },
    { method: 'GET', path: '/v25.0/1234567890123456' },
  ];

  // A coupon template message with any of its fields, each anything: valid, over a bound, spaces in the code, NUL…
  const coupon = () =>
    fc
      .record(
        {
          title: fc.oneof(fc.constant('10% off'), anyText(), fc.constant('x'.repeat(81)), fc.integer()),
          subtitle: fc.oneof(anyText(), fc.constant('x'.repeat(81))),
          coupon_code: fc.oneof(fc.constant('10PERCENT'), fc.constant('10 PERCENT'), anyText(), fc.integer(), fc.constant('x'.repeat(1001)), fc.jsonValue()),
          coupon_url: fc.oneof(fc.constant('https://www.myshop.com/'), anyText(), fc.constant('javascript:alert(1)')),
          coupon_url_button_title: fc.oneof(fc.constant('Shop now'), anyText(), fc.constant('x'.repeat(21))),
          coupon_pre_message: fc.oneof(anyText(), fc.constant('x'.repeat(2000))),
          image_url: fc.oneof(fc.constant('https://www.myshop.com/sale.png'), anyText()),
          payload: fc.oneof(anyText(), fc.integer(), fc.constant('x'.repeat(1001)), fc.jsonValue()),
          expire_time: anyText(),
        },
        { requiredKeys: [] },
      )
      .map((p) => ({ attachment: { type: 'template', payload: { template_type: 'coupon', ...p } } }));

  const arbitraries = () => {
    const scalar = fc.oneof(anyText(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(''));
    const value = () =>
      fc.oneof(
        scalar,
        fc.jsonValue(),
        fc.array(fc.oneof(fc.string(), fc.constantFrom('get_started', 'greeting', 'persistent_menu'))),
        fc.constant({ id: c.psid }),
        fc.constant({ text: 'hi' }),
        fc.constant({ payload: 'P' }),
        fc.constant([{ locale: 'default', text: 'Hi {{user_first_name}}' }]),
        fc.constant([{ locale: 'default', call_to_actions: [{ type: 'postback', title: 'A', payload: 'A' }] }]),
        fc.constant({ attachment: { type: 'image', payload: { url: 'https://example.com/a.png', is_reusable: true } } }),
        fc.constant({ attachment: { type: 'image', payload: { attachment_id: '123' } } }),
        fc.constant({ attachment: { type: 'template', payload: { template_type: 'generic', elements: [{ title: 'x'.repeat(81), subtitle: 's' }] } } }),
        fc.constant('x'.repeat(2000)),
        coupon(),
      );
    const keys = fc.constantFrom(
      'recipient', 'message', 'messaging_type', 'tag', 'sender_action', 'notification_type', 'reply_to', 'persona_id',
      'get_started', 'greeting', 'ice_breakers', 'persistent_menu', 'whitelisted_domains', 'fields', 'commands',
      'access_token', 'appsecret_proof', 'attachment', '__proto__', 'constructor',
    );
    const body = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(keys, value()),
      // A well-formed send around a random coupon, so the coupon's own rules are what answers.
      coupon().map((message) => ({ recipient: { id: c.psid }, messaging_type: 'RESPONSE', message })),
    );
    const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', '');
    const query = fc.oneof(
      fc.constant(''),
      anyQueryText().map((s) => `fields=${encodeURIComponent(s)}`),
      fc.constantFrom('fields=first_name,last_name,name,profile_pic', 'fields=get_started,greeting', 'fields=gender', 'fields='),
      fc.constant('recipient=%7B%22id%22%3A%221%22%7D&message=%7B'),
      fc.string().map((s) => `appsecret_proof=${encodeURIComponent(s)}`),
    );
    const headers = fc.record(
      {
        'idempotency-key': fc.oneof(fc.string(), fc.constant('k1'), fc.constant('x'.repeat(300))),
        authorization: fc.oneof(fc.string(), fc.constant('Bearer sbp_')),
        'x-request-id': fc.string(),
      },
      { requiredKeys: [] },
    );
    return { body, contentType, query, headers };
  };

  it('never answers 5xx, always answers Graph envelopes, and writes nothing when it refuses', async () => {
    const all = routes();
    const { body, contentType, query, headers } = arbitraries();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: all.length - 1 }),
        body,
        contentType,
        query,
        headers,
        fc.constantFrom('query', 'none', 'proof'),
        async (i, b, ct, q, hs, tokenMode) => {
          const route = all[i];
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(hs)) if (/^[\t\x20-\x7e]*$/.test(v)) h[k] = v;
          if (ct) h['content-type'] = ct;
          const params = [q];
          if (tokenMode !== 'none') params.push(`access_token=${encodeURIComponent(c.pageToken)}`);
          if (tokenMode === 'proof') params.push(`appsecret_proof=${createHmac('sha256', c.app.secret).update(c.pageToken).digest('hex')}`);
          const path = `${route.path}?${params.filter(Boolean).join('&')}`;
          const raw = route.method !== 'GET' ? fuzzBody(ct, b) : undefined;
          await expectNo5xx(t.db, api, route.method, path, { headers: h, raw });
        },
      ),
      { numRuns: 400 },
    );
  }, 240_000);
});
