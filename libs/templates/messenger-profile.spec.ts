import { errorOf, menu, phone, postback, str, times, validProfiles, valueOf, webUrl } from './fixtures';
import {
  parseGraphParams,
  MESSENGER_PROFILE_JSON_PARAMS,
  validateMessengerProfile,
  validateCustomUserSettings,
  validateMessengerProfileDelete,
} from './index';

const expectError = (body: unknown, param: string, phrase: string, options = {}) =>
  expect(errorOf(validateMessengerProfile(body, options))).toEqual({
    code: 100,
    param,
    message: `param ${param} ${phrase}`,
  });
const ok = (body: unknown, options = {}) => valueOf(validateMessengerProfile(body, options));

describe('validateMessengerProfile', () => {
  it.each(validProfiles().map((body, i) => [i, body]))('accepts valid body #%s', (_, body) => {
    ok(body);
  });

  it('needs at least one property', () =>
    expectError(
      { access_token: 't' },
      'body',
      'must set at least one of [get_started, greeting, ice_breakers, persistent_menu, whitelisted_domains]',
    ));
  it('refuses unknown properties', () =>
    expectError({ get_startd: { payload: 'x' } }, 'get_startd', 'is not a known field'));
  it.each(['account_linking_url', 'commands', 'payment_settings', 'home_url'])('refuses %s as unsupported', (field) =>
    expectError({ [field]: 'x' }, field, 'is not supported by Switchboard'),
  );
  it.each(['toString', '__proto__', 'constructor'])(
    'reports a field named %s as unknown (no prototype lookups)',
    (field) => expectError(JSON.parse(`{"${field}": false}`), field, 'is not a known field'),
  );
  it('drops transport params', () =>
    expect(ok({ get_started: { payload: 'GO' }, access_token: 't' })).toEqual({ get_started: { payload: 'GO' } }));

  describe('get_started', () => {
    it('accepts a payload of 1000 and refuses 1001', () => {
      ok({ get_started: { payload: str(1000) } });
      expectError({ get_started: { payload: str(1001) } }, 'get_started[payload]', 'must be at most 1000 characters');
    });
    it('requires payload', () => expectError({ get_started: {} }, 'get_started[payload]', 'is required'));
    it('must be an object', () => expectError({ get_started: 'GO' }, 'get_started', 'must be an object'));
  });

  describe('greeting', () => {
    const greeting = (text: string, locale = 'default') => ({ locale, text });
    it('accepts 160 characters and refuses 161', () => {
      ok({ greeting: [greeting(str(160))] });
      expectError({ greeting: [greeting(str(161))] }, 'greeting[0][text]', 'must be at most 160 characters');
    });
    it('keeps the personalization placeholders', () => {
      const text = 'Hi {{user_first_name}} {{user_last_name}} ({{user_full_name}})';
      expect(ok({ greeting: [greeting(text)] }).greeting).toEqual([{ locale: 'default', text }]);
    });
    it('requires a default locale', () =>
      expectError({ greeting: [greeting('Salut', 'fr_FR')] }, 'greeting', 'must include an item with locale default'));
    it('refuses a malformed locale', () =>
      expectError(
        { greeting: [greeting('Hi'), greeting('Hi', 'en-US')] },
        'greeting[1][locale]',
        'must be default or a locale like en_US',
      ));
    it('refuses a repeated locale', () =>
      expectError(
        { greeting: [greeting('Hi'), greeting('Hello')] },
        'greeting[1][locale]',
        'must not repeat locale default',
      ));
    it('refuses an empty list', () => expectError({ greeting: [] }, 'greeting', 'must have at least 1 item'));
  });

  describe('ice_breakers', () => {
    const q = (over: object = {}) => ({ question: 'Where?', payload: 'WHERE', ...over });
    it('accepts 4 questions and refuses 5', () => {
      ok({ ice_breakers: times(4, () => q()) });
      expectError({ ice_breakers: times(5, () => q()) }, 'ice_breakers', 'must have at most 4 items');
    });
    it('accepts a question of 80 and refuses 81', () => {
      ok({ ice_breakers: [q({ question: str(80) })] });
      expectError(
        { ice_breakers: [q({ question: str(81) })] },
        'ice_breakers[0][question]',
        'must be at most 80 characters',
      );
    });
    it('accepts a payload of 1000 and refuses 1001', () => {
      ok({ ice_breakers: [q({ payload: str(1000) })] });
      expectError(
        { ice_breakers: [q({ payload: str(1001) })] },
        'ice_breakers[0][payload]',
        'must be at most 1000 characters',
      );
    });
    it('normalizes questions to the per-locale form', () =>
      expect(ok({ ice_breakers: [q()] }).ice_breakers).toEqual([{ locale: 'default', call_to_actions: [q()] }]));
    it('accepts the per-locale form, 4 questions per locale', () => {
      const body = {
        ice_breakers: [
          { locale: 'default', call_to_actions: times(4, () => q()) },
          { locale: 'de_DE', call_to_actions: [q()] },
        ],
      };
      expect(ok(body)).toEqual(body);
      expectError(
        { ice_breakers: [{ locale: 'default', call_to_actions: times(5, () => q()) }] },
        'ice_breakers[0][call_to_actions]',
        'must have at most 4 items',
      );
    });
    it('requires a default locale in the per-locale form', () =>
      expectError(
        { ice_breakers: [{ locale: 'de_DE', call_to_actions: [q()] }] },
        'ice_breakers',
        'must include an item with locale default',
      ));
    it('refuses mixing the two forms', () =>
      expectError(
        { ice_breakers: [q(), { locale: 'default', call_to_actions: [q()] }] },
        'ice_breakers',
        'must not mix questions with the per-locale form {locale, call_to_actions}',
      ));
  });

  describe('persistent_menu', () => {
    it('requires get_started, in the request or already stored', () => {
      expectError(
        { persistent_menu: [menu()] },
        'persistent_menu',
        'requires get_started to be set (in this request or already on the Page)',
      );
      ok({ persistent_menu: [menu()], get_started: { payload: 'GO' } });
      ok({ persistent_menu: [menu()] }, { getStartedExists: true });
    });
    const stored = { getStartedExists: true };
    it('accepts 20 items and refuses 21', () => {
      ok({ persistent_menu: [menu({ call_to_actions: times(20, () => postback()) })] }, stored);
      expectError(
        { persistent_menu: [menu({ call_to_actions: times(21, () => postback()) })] },
        'persistent_menu[0][call_to_actions]',
        'must have at most 20 items',
        stored,
      );
    });
    it('takes web_url and postback only', () => {
      ok({ persistent_menu: [menu({ call_to_actions: [webUrl(), postback()] })] }, stored);
      expectError(
        { persistent_menu: [menu({ call_to_actions: [phone()] })] },
        'persistent_menu[0][call_to_actions][0][type]',
        'must be one of [web_url, postback]',
        stored,
      );
    });
    it('checks the buttons', () =>
      expectError(
        { persistent_menu: [menu({ call_to_actions: [postback({ title: str(21) })] })] },
        'persistent_menu[0][call_to_actions][0][title]',
        'must be at most 20 characters',
        stored,
      ));
    it('requires a default locale', () =>
      expectError(
        { persistent_menu: [menu({ locale: 'en_US' })] },
        'persistent_menu',
        'must include an item with locale default',
        stored,
      ));
    it('coerces composer_input_disabled', () =>
      expect(
        ok({ persistent_menu: [menu({ composer_input_disabled: 'true' })] }, stored).persistent_menu![0]
          .composer_input_disabled,
      ).toBe(true));
    it('requires call_to_actions', () =>
      expectError(
        { persistent_menu: [{ locale: 'default' }] },
        'persistent_menu[0][call_to_actions]',
        'is required',
        stored,
      ));
  });

  describe('whitelisted_domains', () => {
    it('accepts 50 and refuses 51', () => {
      ok({ whitelisted_domains: times(50, (i) => `https://d${i}.example.com`) });
      expectError(
        { whitelisted_domains: times(51, (i) => `https://d${i}.example.com`) },
        'whitelisted_domains',
        'must have at most 50 items',
      );
    });
    it.each([
      'http://example.com',
      'https://127.0.0.1',
      'https://localhost:3000',
      'https://[::1]',
      'https://intranet',
      'example.com',
      '',
    ])('refuses %j', (domain) =>
      expectError(
        { whitelisted_domains: ['https://ok.example.com', domain] },
        'whitelisted_domains[1]',
        'must be an https URL with a fully qualified domain name',
      ),
    );
    it('must be an array', () =>
      expectError({ whitelisted_domains: 'https://example.com' }, 'whitelisted_domains', 'must be an array'));
  });
});

describe('validateMessengerProfileDelete', () => {
  const del = (body: unknown) => validateMessengerProfileDelete(body);
  it('takes a list of fields, deduplicated', () =>
    expect(valueOf(del({ fields: ['greeting', 'get_started', 'greeting'] }))).toEqual({
      fields: ['greeting', 'get_started'],
    }));
  it('takes a comma-separated list', () =>
    expect(valueOf(del({ fields: 'persistent_menu, get_started' }))).toEqual({
      fields: ['persistent_menu', 'get_started'],
    }));
  it('takes a JSON list from a form body', () => {
    const parsed = valueOf(
      parseGraphParams({ fields: '["ice_breakers"]', access_token: 't' }, MESSENGER_PROFILE_JSON_PARAMS),
    );
    expect(valueOf(del(parsed))).toEqual({ fields: ['ice_breakers'] });
  });
  it('refuses an unknown field name', () =>
    expect(errorOf(del({ fields: ['greeting', 'colour'] }))).toEqual({
      code: 100,
      param: 'fields[1]',
      message:
        'param fields[1] must be one of [get_started, greeting, ice_breakers, persistent_menu, whitelisted_domains, account_linking_url, commands]',
    }));
  it("takes Graph's properties never set here, and leaves them nothing to remove", () => {
    expect(valueOf(del({ fields: ['account_linking_url', 'greeting', 'commands'] }))).toEqual({ fields: ['greeting'] });
    expect(valueOf(del({ fields: 'account_linking_url' }))).toEqual({ fields: [] });
  });
  it('requires fields', () => {
    expect(errorOf(del({})).message).toBe('param fields is required');
    expect(errorOf(del({ fields: [] })).message).toBe('param fields must have at least 1 item');
  });
  it('refuses other params', () =>
    expect(errorOf(del({ fields: ['greeting'], greeting: [] })).message).toBe('param greeting is not a known field'));
});

describe('validateCustomUserSettings', () => {
  const menu = [{ locale: 'default', call_to_actions: [{ type: 'postback', title: 'My orders', payload: 'ORDERS' }] }];
  it("takes a PSID and the Page's menu rules, when the Page has get_started", () => {
    const v = validateCustomUserSettings({ psid: 1254477777772919, persistent_menu: menu, access_token: 'x' }, { getStartedExists: true });
    expect(v).toEqual({ ok: true, value: { psid: '1254477777772919', persistent_menu: menu } });
  });
  it('names the first failing param', () => {
    expect(validateCustomUserSettings({ persistent_menu: menu }, { getStartedExists: true })).toMatchObject({ ok: false, error: { param: 'psid' } });
    expect(validateCustomUserSettings({ psid: '1', persistent_menu: menu })).toMatchObject({ ok: false, error: { param: 'persistent_menu', message: expect.stringContaining('get_started') } });
    expect(validateCustomUserSettings({ psid: '1', persistent_menu: [{ locale: 'fi_FI', call_to_actions: menu[0].call_to_actions }] }, { getStartedExists: true })).toMatchObject({ ok: false, error: { param: 'persistent_menu' } });
    expect(validateCustomUserSettings({ psid: '1', persistent_menu: menu, greeting: [] }, { getStartedExists: true })).toMatchObject({ ok: false, error: { param: 'greeting' } });
  });
});
