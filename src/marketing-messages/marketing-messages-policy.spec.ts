import { looksLikeToken, newNotificationMessagesToken, optinItem, sendCooldownMs, tokenExpiry, topicView } from './marketing-messages-policy';

describe('marketing messages policy', () => {
  const t0 = Date.UTC(2026, 0, 31, 12);

  it("gives a token Meta's documented lifetime for its frequency, 12 months without one", () => {
    expect(new Date(tokenExpiry(t0, 'DAILY')).toISOString()).toBe('2026-07-31T12:00:00.000Z');
    expect(new Date(tokenExpiry(t0, 'WEEKLY')).toISOString()).toBe('2026-10-31T12:00:00.000Z');
    expect(new Date(tokenExpiry(t0, 'MONTHLY')).toISOString()).toBe('2027-01-31T12:00:00.000Z');
    expect(tokenExpiry(t0, null)).toBe(tokenExpiry(t0, 'MONTHLY'));
  });

  it('spaces messages on a token by 48 hours, or the longer period of a weekly or monthly opt-in', () => {
    expect(sendCooldownMs(null)).toBe(48 * 3_600_000);
    expect(sendCooldownMs('DAILY')).toBe(48 * 3_600_000);
    expect(sendCooldownMs('WEEKLY')).toBe(7 * 86_400_000);
    expect(sendCooldownMs('MONTHLY')).toBe(30 * 86_400_000);
    expect(sendCooldownMs('bogus')).toBe(48 * 3_600_000);
  });

  it('mints 43-character base64url tokens, each different', () => {
    const a = newNotificationMessagesToken();
    const b = newNotificationMessagesToken();
    expect(looksLikeToken(a)).toBe(true);
    expect(a).not.toBe(b);
    expect(looksLikeToken('short')).toBe(false);
    expect(looksLikeToken(`${a.slice(0, 42)}+`)).toBe(false);
  });

  it("writes Meta's messaging_optins item: the opt-in with user_token_status, a stop or resume with notification_messages_status", () => {
    const row = { payload: 'P', frequency: null, timezone: 'UTC', expires_at: '99', title: 'Deals', refreshed: false };
    const p = { psid: '7', pageId: '9' };
    expect(optinItem(p, row, 'sealed:x', 'opt_in', 5)).toEqual({
      sender: { id: '7' },
      recipient: { id: '9' },
      timestamp: 5,
      optin: {
        type: 'notification_messages',
        payload: 'P',
        notification_messages_token: 'sealed:x',
        notification_messages_timezone: 'UTC',
        token_expiry_timestamp: 99,
        user_token_status: 'NOT_REFRESHED',
        title: 'Deals',
      },
    });
    const stop = optinItem(p, { ...row, frequency: 'WEEKLY', refreshed: true }, 'sealed:x', 'STOP_NOTIFICATIONS', 5).optin as Record<string, unknown>;
    expect(stop.notification_messages_status).toBe('STOP_NOTIFICATIONS');
    expect(stop.notification_messages_frequency).toBe('WEEKLY');
    expect(stop).not.toHaveProperty('user_token_status');
    expect((optinItem(p, { ...row, refreshed: true }, 's', 'opt_in', 5).optin as Record<string, unknown>).user_token_status).toBe('REFRESHED');
  });

  it('says a topic past its expiry is expired, whatever its status', () => {
    const row = { mid: 'm', title: 'T', payload: 'P', status: 'stopped' as const, created_at: '1', expires_at: '10', frequency: null } as never;
    expect(topicView(row, 5).status).toBe('stopped');
    expect(topicView(row, 10).status).toBe('expired');
  });
});
