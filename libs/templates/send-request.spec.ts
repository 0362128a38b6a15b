import { errorOf, request, str, times, validRequests, valueOf } from './fixtures';
import { LIMITS, validateMessageContent, validateSendRequest } from './index';

const error = (body: unknown) => errorOf(validateSendRequest(body));
const expectError = (body: unknown, param: string, phrase: string) =>
  expect(error(body)).toEqual({ code: 100, param, message: `param ${param} ${phrase}` });

describe('validateSendRequest', () => {
  it.each(validRequests().map((body, i) => [i, body]))('accepts valid body #%s', (_, body) => {
    valueOf(validateSendRequest(body));
  });

  it('returns the normalized request', () => {
    expect(
      valueOf(validateSendRequest(request({ text: 'hi' }, { access_token: 'EAAB', appsecret_proof: 'ff' }))),
    ).toEqual({
      recipient: { id: '1254477777772919' },
      messaging_type: 'RESPONSE',
      message: { text: 'hi' },
    });
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, 'recipient=1', 42, [request({ text: 'hi' })]])
      expectError(body, 'body', 'must be an object');
  });

  describe('recipient', () => {
    it('is required', () => expectError(request({ text: 'hi' }, { recipient: undefined }), 'recipient', 'is required'));
    it('must be an object', () =>
      expectError(request({ text: 'hi' }, { recipient: '123' }), 'recipient', 'must be an object'));
    it('needs id', () => expectError(request({ text: 'hi' }, { recipient: {} }), 'recipient[id]', 'is required'));
    it('takes a numeric id as a string', () => {
      expect(
        valueOf(validateSendRequest(request({ text: 'hi' }, { recipient: { id: 1254477777772919 } }))).recipient,
      ).toEqual({ id: '1254477777772919' });
    });
    it('refuses an id too large to be exact', () =>
      expectError(
        request({ text: 'hi' }, { recipient: { id: 12544777777729191 } }),
        'recipient[id]',
        'must be a string (this number is too large to be exact)',
      ));
    it.each(['user_ref', 'comment_id', 'post_id', 'phone_number'])('refuses %s with a clear message', (field) =>
      expectError(
        request({ text: 'hi' }, { recipient: { [field]: 'x' } }),
        `recipient[${field}]`,
        'is not supported: Switchboard accepts recipient[id] (a PSID) or recipient[notification_messages_token]',
      ),
    );
  });

  describe('recipient notification_messages_token (marketing messages)', () => {
    const token = 'n'.repeat(43);
    it('takes a token instead of an id, with or without messaging_type', () => {
      expect(valueOf(validateSendRequest(request({ text: 'hi' }, { recipient: { notification_messages_token: token } }))).recipient).toEqual({
        notification_messages_token: token,
      });
      const bare = valueOf(validateSendRequest(request({ text: 'hi' }, { recipient: { notification_messages_token: token }, messaging_type: undefined })));
      expect(bare.messaging_type).toBeUndefined();
    });
    it('refuses a token with an id', () =>
      expectError(
        request({ text: 'hi' }, { recipient: { id: '1', notification_messages_token: token } }),
        'recipient[id]',
        'must not be combined with recipient[notification_messages_token]',
      ));
    it('refuses an empty, a non-string or an overlong token', () => {
      expectError(request({ text: 'hi' }, { recipient: { notification_messages_token: '' } }), 'recipient[notification_messages_token]', 'must not be empty');
      expectError(request({ text: 'hi' }, { recipient: { notification_messages_token: 5 } }), 'recipient[notification_messages_token]', 'must be a string');
      expectError(
        request({ text: 'hi' }, { recipient: { notification_messages_token: 'x'.repeat(257) } }),
        'recipient[notification_messages_token]',
        'must be at most 256 characters',
      );
    });
    it('refuses a sender action to a token', () =>
      expectError(
        { recipient: { notification_messages_token: token }, sender_action: 'typing_on' },
        'sender_action',
        'must not be sent to a recipient[notification_messages_token]',
      ));
    it('still refuses a bad messaging_type when one is given', () =>
      expectError(
        request({ text: 'hi' }, { recipient: { notification_messages_token: token }, messaging_type: 'PROMO' }),
        'messaging_type',
        'must be one of [RESPONSE, UPDATE, MESSAGE_TAG]',
      ));
  });

  describe('messaging_type and tag', () => {
    it('requires messaging_type with a message', () =>
      expectError(request({ text: 'hi' }, { messaging_type: undefined }), 'messaging_type', 'is required'));
    it('refuses an unknown messaging_type', () =>
      expectError(
        request({ text: 'hi' }, { messaging_type: 'PROMO' }),
        'messaging_type',
        'must be one of [RESPONSE, UPDATE, MESSAGE_TAG]',
      ));
    it.each(['RESPONSE', 'UPDATE'])('accepts %s without tag', (type) => {
      valueOf(validateSendRequest(request({ text: 'hi' }, { messaging_type: type })));
    });
    it.each(['HUMAN_AGENT', 'CUSTOMER_FEEDBACK'])('accepts MESSAGE_TAG with %s', (tag) => {
      expect(valueOf(validateSendRequest(request({ text: 'hi' }, { messaging_type: 'MESSAGE_TAG', tag }))).tag).toBe(
        tag,
      );
    });
    it('requires tag with MESSAGE_TAG', () =>
      expectError(
        request({ text: 'hi' }, { messaging_type: 'MESSAGE_TAG' }),
        'tag',
        'is required when messaging_type is MESSAGE_TAG',
      ));
    it('refuses tag without MESSAGE_TAG', () =>
      expectError(
        request({ text: 'hi' }, { tag: 'HUMAN_AGENT' }),
        'tag',
        'must only be set when messaging_type is MESSAGE_TAG',
      ));
    it.each(['ACCOUNT_UPDATE', 'CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE'])(
      'refuses the deprecated %s with code 100',
      (tag) =>
        expectError(
          request({ text: 'hi' }, { messaging_type: 'MESSAGE_TAG', tag }),
          'tag',
          `${tag} is deprecated since 2026-04-27 (Graph refuses it with error 100); use one of [HUMAN_AGENT, CUSTOMER_FEEDBACK]`,
        ),
    );
    it('refuses an unknown tag', () =>
      expectError(
        request({ text: 'hi' }, { messaging_type: 'MESSAGE_TAG', tag: 'PROMO' }),
        'tag',
        'must be one of [HUMAN_AGENT, CUSTOMER_FEEDBACK]',
      ));
  });

  describe('message and sender_action', () => {
    it('refuses both', () =>
      expectError(
        request({ text: 'hi' }, { sender_action: 'typing_on' }),
        'sender_action',
        'must not be combined with message',
      ));
    it('requires one', () => expectError(request(undefined), 'message', 'is required unless sender_action is set'));
    it.each(['typing_on', 'typing_off', 'mark_seen'])('accepts sender_action %s without messaging_type', (action) => {
      expect(valueOf(validateSendRequest({ recipient: { id: '1' }, sender_action: action }))).toEqual({
        recipient: { id: '1' },
        sender_action: action,
      });
    });
    // Graph's Page Messages reference lists the values in capitals (TYPING_ON, MARK_SEEN, REACT, …); the Messenger
    // guides in lower case.
    it.each([
      ['TYPING_ON', 'typing_on'],
      ['Mark_Seen', 'mark_seen'],
    ])('takes sender_action %s in any case, as %s', (given, action) => {
      expect(valueOf(validateSendRequest({ recipient: { id: '1' }, sender_action: given }))).toEqual({ recipient: { id: '1' }, sender_action: action });
    });
    it('takes UNREACT with its payload', () =>
      expect(valueOf(validateSendRequest({ recipient: { id: '1' }, sender_action: 'UNREACT', payload: { message_id: 'm_1' } }))).toEqual({
        recipient: { id: '1' },
        sender_action: 'unreact',
        payload: { message_id: 'm_1' },
      }));
    it('refuses an unknown sender_action', () =>
      expectError(
        { recipient: { id: '1' }, sender_action: 'wave' },
        'sender_action',
        'must be one of [typing_on, typing_off, mark_seen, react, unreact]',
      ));
    it('refuses a message that is not an object', () =>
      expectError(request('{"text":"hi"}'), 'message', 'must be an object'));
  });

  describe('react and unreact', () => {
    const react = (payload: unknown, extra: Record<string, unknown> = {}) => ({ recipient: { id: '1' }, sender_action: 'react', payload, ...extra });
    it('takes the message and one emoji', () => {
      expect(valueOf(validateSendRequest(react({ message_id: 'm_1', reaction: '😊' })))).toEqual({
        recipient: { id: '1' },
        sender_action: 'react',
        payload: { message_id: 'm_1', reaction: '😊' },
      });
    });
    it('accepts emoji sequences: skin tone, ZWJ, flag, keycap, variation selector', () => {
      for (const reaction of ['👍🏽', '👩‍👩‍👧', '🇫🇮', '1️⃣', '❤️'])
        valueOf(validateSendRequest(react({ message_id: 'm_1', reaction })));
    });
    it('refuses a reaction that is not one emoji', () => {
      for (const reaction of ['love', '😊😊', ' 😊', '😊x', '', 'A'])
        expectError(react({ message_id: 'm_1', reaction }), 'payload[reaction]', 'must be one emoji');
      expectError(react({ message_id: 'm_1', reaction: 7 }), 'payload[reaction]', 'must be a string');
    });
    it('needs the payload, its message_id, and an emoji to react', () => {
      expectError(react(undefined), 'payload', 'is required when sender_action is react');
      expectError(react({ reaction: '😊' }), 'payload[message_id]', 'is required');
      expectError(react({ message_id: 'm_1' }), 'payload[reaction]', 'is required');
    });
    it('unreact names the message only', () => {
      expect(valueOf(validateSendRequest({ recipient: { id: '1' }, sender_action: 'unreact', payload: { message_id: 'm_1' } })).payload).toEqual({
        message_id: 'm_1',
      });
      expect(error({ recipient: { id: '1' }, sender_action: 'unreact', payload: { message_id: 'm_1', reaction: '😊' } })).toMatchObject({
        param: 'payload[reaction]',
      });
    });
    it('refuses a payload on any other request', () => {
      expectError({ recipient: { id: '1' }, sender_action: 'typing_on', payload: { message_id: 'm_1' } }, 'payload', 'must only be set when sender_action is react or unreact');
      expectError(request({ text: 'hi' }, { payload: { message_id: 'm_1' } }), 'payload', 'must only be set when sender_action is react or unreact');
    });
  });

  describe('message content', () => {
    it(`accepts text of ${LIMITS.text - 1} characters and refuses ${LIMITS.text}`, () => {
      valueOf(validateSendRequest(request({ text: str(1999) })));
      expectError(request({ text: str(2000) }), 'message[text]', 'must be fewer than 2000 characters');
    });
    it('counts characters as code points', () => {
      valueOf(validateSendRequest(request({ text: str(1999, '🙂') })));
      expectError(request({ text: str(2000, '🙂') }), 'message[text]', 'must be fewer than 2000 characters');
    });
    it('refuses empty text', () => expectError(request({ text: '' }), 'message[text]', 'must not be empty'));
    it('refuses text and attachment together', () =>
      expectError(
        request({ text: 'hi', attachment: { type: 'image', payload: { url: 'https://x.y/a.png' } } }),
        'message[attachment]',
        'must not be combined with message[text]',
      ));
    it('requires text or attachment', () =>
      expectError(request({ metadata: 'm' }), 'message', 'must set one of text or attachment'));
    it('accepts metadata of 999 characters and refuses 1000', () => {
      valueOf(validateSendRequest(request({ text: 'hi', metadata: str(999) })));
      expectError(
        request({ text: 'hi', metadata: str(1000) }),
        'message[metadata]',
        'must be fewer than 1000 characters',
      );
    });
  });

  describe('quick replies', () => {
    const qr = (over: object = {}) => ({ content_type: 'text', title: 'Red', payload: 'RED', ...over });
    it('accepts 13 and refuses 14', () => {
      valueOf(validateSendRequest(request({ text: 'pick', quick_replies: times(13, () => qr()) })));
      expectError(
        request({ text: 'pick', quick_replies: times(14, () => qr()) }),
        'message[quick_replies]',
        'must have at most 13 items',
      );
    });
    it('go with an attachment too', () => {
      valueOf(
        validateSendRequest(
          request({ attachment: { type: 'image', payload: { attachment_id: '1' } }, quick_replies: [qr()] }),
        ),
      );
    });
    it('accept a title of 20 and refuse 21', () => {
      valueOf(validateSendRequest(request({ text: 'pick', quick_replies: [qr({ title: str(20) })] })));
      expectError(
        request({ text: 'pick', quick_replies: [qr(), qr({ title: str(21) })] }),
        'message[quick_replies][1][title]',
        'must be at most 20 characters',
      );
    });
    it('accept a payload of 1000 and refuse 1001', () => {
      valueOf(validateSendRequest(request({ text: 'pick', quick_replies: [qr({ payload: str(1000) })] })));
      expectError(
        request({ text: 'pick', quick_replies: [qr({ payload: str(1001) })] }),
        'message[quick_replies][0][payload]',
        'must be at most 1000 characters',
      );
    });
    it('need title and payload on text', () => {
      expectError(
        request({ text: 'pick', quick_replies: [{ content_type: 'text', payload: 'P' }] }),
        'message[quick_replies][0][title]',
        'is required',
      );
      expectError(
        request({ text: 'pick', quick_replies: [{ content_type: 'text', title: 'T' }] }),
        'message[quick_replies][0][payload]',
        'is required',
      );
    });
    it('allow an empty title only with an image', () => {
      valueOf(
        validateSendRequest(
          request({ text: 'pick', quick_replies: [qr({ title: '', image_url: 'https://x.y/red.png' })] }),
        ),
      );
      expectError(
        request({ text: 'pick', quick_replies: [qr({ title: '' })] }),
        'message[quick_replies][0][image_url]',
        'is required when message[quick_replies][0][title] is empty',
      );
    });
    it('check image_url', () =>
      expectError(
        request({ text: 'pick', quick_replies: [qr({ image_url: 'red.png' })] }),
        'message[quick_replies][0][image_url]',
        'must be a valid URL',
      ));
    it('refuse an unknown content_type (location was removed)', () =>
      expectError(
        request({ text: 'pick', quick_replies: [{ content_type: 'location' }] }),
        'message[quick_replies][0][content_type]',
        'must be one of [text, user_phone_number, user_email]',
      ));
    it('keep only content_type on user_phone_number and user_email', () => {
      const value = valueOf(
        validateSendRequest(
          request({
            text: 'pick',
            quick_replies: [
              { content_type: 'user_phone_number', title: 'x', payload: 'y' },
              { content_type: 'user_email' },
              qr({ payload: 12 }),
            ],
          }),
        ),
      );
      expect(value.message!.quick_replies).toEqual([
        { content_type: 'user_phone_number' },
        { content_type: 'user_email' },
        { content_type: 'text', title: 'Red', payload: '12' },
      ]);
    });
  });

  describe('media attachments', () => {
    const media = (type: string, payload: unknown) => request({ attachment: { type, payload } });
    it.each(['image', 'audio', 'video', 'file'])('accept %s by url or attachment_id', (type) => {
      valueOf(validateSendRequest(media(type, { url: 'https://example.com/f', is_reusable: true })));
      expect(
        valueOf(validateSendRequest(media(type, { attachment_id: 1857777774821032 }))).message!.attachment,
      ).toEqual({ type, payload: { attachment_id: '1857777774821032' } });
    });
    it('refuse url with attachment_id', () =>
      expectError(
        media('image', { url: 'https://x.y/a.png', attachment_id: '1' }),
        'message[attachment][payload][attachment_id]',
        'must not be combined with message[attachment][payload][url]',
      ));
    it('refuse neither', () =>
      expectError(
        media('image', { is_reusable: true }),
        'message[attachment][payload]',
        'must set one of url or attachment_id',
      ));
    it('refuse a bad url', () =>
      expectError(media('image', { url: 'cat.png' }), 'message[attachment][payload][url]', 'must be a valid URL'));
    it('refuse a missing payload', () =>
      expectError(request({ attachment: { type: 'image' } }), 'message[attachment][payload]', 'is required'));
    it('refuse an unknown type', () =>
      expectError(
        media('sticker', { url: 'https://x.y' }),
        'message[attachment][type]',
        'must be one of [image, audio, video, file, template]',
      ));
  });

  describe('reply_to, notification_type, persona_id', () => {
    it('accept reply_to at the top level or in message, normalized to the top level', () => {
      expect(valueOf(validateSendRequest(request({ text: 'hi' }, { reply_to: { mid: 'm_1' } }))).reply_to).toEqual({
        mid: 'm_1',
      });
      const nested = valueOf(validateSendRequest(request({ text: 'hi', reply_to: { mid: 'm_2' } })));
      expect(nested.reply_to).toEqual({ mid: 'm_2' });
      expect(nested.message).toEqual({ text: 'hi' });
    });
    it('refuse reply_to in both places', () =>
      expectError(
        request({ text: 'hi', reply_to: { mid: 'a' } }, { reply_to: { mid: 'b' } }),
        'reply_to',
        'must not be combined with message[reply_to]',
      ));
    it('refuse reply_to without mid', () =>
      expectError(request({ text: 'hi' }, { reply_to: {} }), 'reply_to[mid]', 'is required'));
    it('check notification_type', () => {
      for (const type of ['REGULAR', 'SILENT_PUSH', 'NO_PUSH'])
        valueOf(validateSendRequest(request({ text: 'hi' }, { notification_type: type })));
      expectError(
        request({ text: 'hi' }, { notification_type: 'LOUD' }),
        'notification_type',
        'must be one of [REGULAR, SILENT_PUSH, NO_PUSH]',
      );
    });
    it('keep persona_id', () =>
      expect(valueOf(validateSendRequest(request({ text: 'hi' }, { persona_id: 42 }))).persona_id).toBe('42'));
  });

  describe('unknown fields', () => {
    it('are refused at the top level, so typos surface', () =>
      expectError({ ...request(undefined), mesage: { text: 'hi' } }, 'mesage', 'is not a known field'));
    it('are refused in message', () =>
      expectError(request({ text: 'hi', quick_reply: [] }), 'message[quick_reply]', 'is not a known field'));
    it('are reported before the other fields of their level', () =>
      expectError({ foo: 1, recipient: {} }, 'foo', 'is not a known field'));
    it('accept and drop Graph transport params', () => {
      const value = valueOf(
        validateSendRequest(
          request(
            { text: 'hi' },
            { access_token: 't', method: 'post', pretty: '0', suppress_http_code: '1', format: 'json' },
          ),
        ),
      );
      expect(Object.keys(value)).toEqual(['recipient', 'messaging_type', 'message']);
    });
    it('are ignored in recipient, reply_to and attachments', () => {
      const value = valueOf(
        validateSendRequest(
          request(
            { attachment: { type: 'image', payload: { url: 'https://x.y/a.png', foo: 1 }, bar: 2 } },
            { recipient: { id: '1', name: 'x' } },
          ),
        ),
      );
      expect(value).toEqual({
        recipient: { id: '1' },
        messaging_type: 'RESPONSE',
        message: { attachment: { type: 'image', payload: { url: 'https://x.y/a.png' } } },
      });
    });
    it('treat null like absent', () =>
      expect(valueOf(validateSendRequest(request({ text: 'hi', quick_replies: null }, { tag: null })))).toEqual(
        valueOf(validateSendRequest(request({ text: 'hi' }))),
      ));
  });

  describe('error order', () => {
    it('does not depend on key order', () => {
      const a = { message: { text: str(2000) }, messaging_type: 'FOO', recipient: {} };
      const b = { recipient: {}, messaging_type: 'FOO', message: { text: str(2000) } };
      expect(error(a)).toEqual(error(b));
      expect(error(a).param).toBe('recipient[id]');
    });
    it('reports array items by index', () => {
      const quick_replies = [
        { content_type: 'text', title: 't', payload: 'p' },
        { content_type: 'text', title: str(21), payload: 'p' },
        { content_type: 'bad' },
      ];
      expect(error(request({ text: 'hi', quick_replies })).param).toBe('message[quick_replies][1][title]');
    });
    it('refuses absurd nesting without recursing through it', () => {
      let deep: unknown = 'x';
      for (let i = 0; i < 10_000; i++) deep = [deep];
      expect(error(request({ text: 'hi', quick_replies: deep })).message).toMatch(
        /^param message\[quick_replies\](\[0\])+ must not be nested more than 32 levels deep$/,
      );
    });
    it('refuses a constructor key anywhere, which class-transformer would take for a class', () => {
      expect(error({ recipient: { id: '1' }, sender_action: { title: 't', constructor: {} } }).message).toBe(
        'param sender_action[constructor] is not a known field',
      );
      expect(error(request({ text: 'hi', quick_replies: [{ content_type: 'text', title: 't', payload: 'p', constructor: '1' }] })).param).toBe(
        'message[quick_replies][0][constructor]',
      );
    });
    it('does not mutate its input', () => {
      const body = request({
        text: 'hi',
        reply_to: { mid: 'm' },
        quick_replies: [{ content_type: 'user_email', title: 'x' }],
      });
      const copy = JSON.parse(JSON.stringify(body));
      validateSendRequest(body);
      expect(body).toEqual(copy);
    });
  });
});

describe('validateMessageContent', () => {
  it('validates the content alone', () =>
    expect(valueOf(validateMessageContent({ text: 'hi' }))).toEqual({ text: 'hi' }));
  it('names params from message by default', () =>
    expect(errorOf(validateMessageContent({ text: str(2000) }))).toEqual({
      code: 100,
      param: 'message[text]',
      message: 'param message[text] must be fewer than 2000 characters',
    }));
  it('takes another root name', () =>
    expect(errorOf(validateMessageContent('hi', { path: 'content' })).message).toBe('param content must be an object'));
});
