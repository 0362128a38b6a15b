import { handlerFor, isAllowedHostName, refuseFetchUrl } from './event-handler';

describe('hosted script routing and fetch policy', () => {
  it('maps messaging items to handlers', () => {
    expect(handlerFor({ message: { text: 'hi' } })).toBe('onMessage');
    expect(handlerFor({ message: { is_echo: true } })).toBe('onEcho');
    expect(handlerFor({ postback: { payload: 'X' } })).toBe('onPostback');
    expect(handlerFor({ delivery: { mids: [] } })).toBe('onDelivery');
    expect(handlerFor({ read: { watermark: 1 } })).toBe('onRead');
    expect(handlerFor({ reaction: { mid: 'm_1', action: 'react' } })).toBe('onReaction');
    expect(handlerFor({ message_edit: { mid: 'm_1', text: 'x', num_edit: 1 } })).toBe('onEdit');
    expect(handlerFor({ referral: { ref: 'r', source: 'SHORTLINK' } })).toBe('onReferral');
    // A coupon's code revealed (Messenger's messages item, no `message` in it).
    expect(handlerFor({ sender: { id: '1' }, template: { type: 'coupon', payload: 'P', coupon_code: 'C' } }, 'messages')).toBe('onTemplate');
    expect(handlerFor({ template: { type: 'coupon', coupon_code: 'C' } }, 'standby')).toBe('onStandby');
    // A customer feedback template answered.
    expect(handlerFor({ messaging_feedback: { feedback_screens: [{ screen_id: 0, questions: {} }] } }, 'messaging_feedback')).toBe('onFeedback');
    expect(handlerFor({ response_feedback: { feedback: 'Good response', mid: 'm_1' } }, 'response_feedback')).toBe('onResponseFeedback');
    // Marketing messages: the opt-in, a stop or a resume (messaging_optins).
    expect(handlerFor({ sender: { id: '1' }, optin: { type: 'notification_messages', notification_messages_token: 't' } }, 'messaging_optins')).toBe('onOptin');
    expect(handlerFor({ something: 1 })).toBeNull();
    // A thread another app controls: every kind of event goes to onStandby.
    expect(handlerFor({ message: { text: 'hi' } }, 'standby')).toBe('onStandby');
    expect(handlerFor({ postback: { title: 'X' } }, 'standby')).toBe('onStandby');
    expect(handlerFor({ pass_thread_control: { new_owner_app_id: '1' } }, 'messaging_handovers')).toBe('onHandover');
    expect(handlerFor({ recipient: { id: '1' }, timestamp: 1, app_roles: { '2': ['primary_receiver'] } }, 'messaging_handovers')).toBe('onHandover');
    expect(handlerFor({ recipient: { id: '1' }, timestamp: 1, policy_enforcement: { action: 'block', reason: 'r' } }, 'messaging_policy_enforcement')).toBe('onPolicyEnforcement');
  });

  it('accepts DNS names only as allowed hosts', () => {
    expect(isAllowedHostName('api.example.com')).toBe(true);
    expect(['localhost', '127.0.0.1', 'a.localhost', '*.example.com', 'example.com:8443', 'EXAMPLE.com'].some(isAllowedHostName)).toBe(false);
  });

  it('fetches only https on declared hosts', () => {
    expect(refuseFetchUrl('https://api.example.com/x', ['api.example.com'])).toBeNull();
    expect(refuseFetchUrl('http://api.example.com/x', ['api.example.com'])).toMatch(/https/);
    expect(refuseFetchUrl('https://evil.example.net/x', ['api.example.com'])).toMatch(/allowed_hosts/);
    expect(refuseFetchUrl('https://u:p@api.example.com/', ['api.example.com'])).toMatch(/credentials/);
    expect(refuseFetchUrl('https://api.example.com:8443/', ['api.example.com'])).toMatch(/port/);
    expect(refuseFetchUrl('nope', ['api.example.com'])).toBe('invalid URL');
  });
});
