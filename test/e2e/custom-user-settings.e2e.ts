import { BotReceiver, startBotReceiver } from '../support/bot-receiver';
import { httpClient, HttpClient } from '../support/http-client';
import { startTestPlatform, TestPlatform } from '../support/spawn-platform';
import { waitFor } from '../support/wait-for';
import { clientId, conversation, offerGetStarted, openThread, psidOf } from '../factories/messaging.factory';
import { signupPerson } from '../factories/registry.factory';

// Graph's custom_user_settings: a bot gives one person their own persistent menu; that person sees it (and may tap
// it) instead of the Page's, everyone else keeps the Page's.
describe('send api: custom_user_settings', () => {
  let t: TestPlatform;
  let api: HttpClient;
  let bot: BotReceiver;

  beforeAll(async () => {
    t = await startTestPlatform();
    api = httpClient(t.url);
    bot = await startBotReceiver('verify-me');
  });
  afterAll(async () => {
    await bot?.close();
    await t?.close();
  });

  const pageMenu = [{ locale: 'default', call_to_actions: [{ type: 'postback', title: 'Shop', payload: 'SHOP' }] }];
  const vipMenu = [{ locale: 'default', composer_input_disabled: true, call_to_actions: [{ type: 'postback', title: 'My concierge', payload: 'VIP' }] }];

  it("gives one person their own menu, which only they see and tap, until it is deleted", async () => {
    const c = await conversation(api, bot);
    const psid = await psidOf(t.db, c.thread.id);
    const graph = (method: 'post' | 'get' | 'delete', body?: unknown, query = '') => {
      const url = `/v25.0/me/custom_user_settings?access_token=${encodeURIComponent(c.pageToken)}${query}`;
      return method === 'post' ? api.post(url, body) : method === 'get' ? api.get(url) : api.delete(url);
    };
    // The Page must have get_started first, as on Messenger.
    const early = await graph('post', { psid, persistent_menu: vipMenu });
    expect([early.status, early.body.error.code]).toEqual([400, 100]);
    await offerGetStarted(api, c.pageToken);
    expect((await api.post(`/v25.0/me/messenger_profile?access_token=${encodeURIComponent(c.pageToken)}`, { persistent_menu: pageMenu })).status).toBe(200);

    expect((await graph('post', { psid, persistent_menu: vipMenu })).body).toEqual({ result: 'success' });
    expect((await graph('get', undefined, `&psid=${psid}`)).body).toEqual({ data: [{ user_level_persistent_menu: vipMenu, page_level_persistent_menu: pageMenu }] });

    const view = await api.get(`/pages/${c.page.id}/profile`, { token: c.person.token });
    expect(view.body.persistent_menu).toEqual({ composer_input_disabled: true, call_to_actions: vipMenu[0].call_to_actions });
    const tap = await api.post(`/threads/${c.thread.id}/postbacks`, { title: 'My concierge', payload: 'VIP', client_message_id: clientId() }, { token: c.person.token });
    expect(tap.status).toBe(201);
    await waitFor('the VIP postback', () => bot.received.find((r) => r.body.toString().includes('"VIP"')));

    // Another person on the same Page: the Page's menu, and the VIP button is not theirs to tap.
    const other = await signupPerson(api, 'Other');
    const theirs = await openThread(api, other, c.page.id);
    expect((await api.get(`/pages/${c.page.id}/profile`, { token: other.token })).body.persistent_menu.call_to_actions).toEqual(pageMenu[0].call_to_actions);
    const forged = await api.post(`/threads/${theirs.id}/postbacks`, { title: 'My concierge', payload: 'VIP' }, { token: other.token });
    expect([forged.status, forged.body.code]).toEqual([400, 'THREAD.POSTBACK_NOT_OFFERED']);

    expect((await graph('delete', undefined, `&psid=${psid}&params=${encodeURIComponent('["persistent_menu"]')}`)).body).toEqual({ result: 'success' });
    expect((await api.get(`/pages/${c.page.id}/profile`, { token: c.person.token })).body.persistent_menu.call_to_actions).toEqual(pageMenu[0].call_to_actions);
    expect((await graph('get', undefined, `&psid=${psid}`)).body).toEqual({ data: [{ page_level_persistent_menu: pageMenu }] });

    // People's own menus need the Page's get_started too: removing it removes them.
    expect((await graph('post', { psid, persistent_menu: vipMenu })).body).toEqual({ result: 'success' });
    const removed = await api.delete(`/v25.0/me/messenger_profile?access_token=${encodeURIComponent(c.pageToken)}&fields=get_started,persistent_menu`);
    expect(removed.body).toEqual({ result: 'success' });
    expect((await graph('get', undefined, `&psid=${psid}`)).body).toEqual({ data: [] });
    expect((await api.get(`/pages/${c.page.id}/profile`, { token: c.person.token })).body.persistent_menu).toBeNull();
  });

  it("refuses PSIDs the Page doesn't know and menus that break the Page's rules", async () => {
    const c = await conversation(api);
    await offerGetStarted(api, c.pageToken);
    const url = `/v25.0/me/custom_user_settings?access_token=${encodeURIComponent(c.pageToken)}`;
    const stranger = await api.post(url, { psid: '1234567890123456', persistent_menu: vipMenu });
    expect(stranger.body.error).toMatchObject({ code: 100, error_subcode: 2018001 });
    const psid = await psidOf(t.db, c.thread.id);
    for (const bad of [{ psid }, { psid, persistent_menu: [] }, { psid, persistent_menu: vipMenu, greeting: [] }, { psid, persistent_menu: [{ locale: 'fi_FI', call_to_actions: [] }] }]) {
      const res = await api.post(url, bad);
      expect([res.status, res.body.error.code]).toEqual([400, 100]);
    }
    expect((await api.delete(`${url}&psid=${psid}&params=greeting`)).body.error.code).toBe(100);
    const [{ mine }] = await t.db.query('SELECT count(*)::int AS mine FROM custom_user_settings WHERE page_id = $1', [c.page.id]);
    expect(mine).toBe(0);
  });
});
