// Marketing messages' rules as Switchboard keeps them, Nest-free (the unit spec imports this file).
import { randomBytes } from 'node:crypto';
import type { NotificationMessagesTemplatePayload } from '../../libs/templates';

export type Frequency = NonNullable<NotificationMessagesTemplatePayload['notification_messages_frequency']>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// How long a token lives. Meta documented 6, 9 and 12 months for DAILY, WEEKLY and MONTHLY opt-ins; since August
// 2023 it says tokens no longer expire, yet still sends token_expiry_timestamp. Switchboard keeps an end so a
// consent does not outlive the person's interest forever: the documented lifetime of the opt-in's frequency, and
// the longest one (12 months) for an opt-in without one (Meta's current request).
const LIFETIME_MONTHS: Record<Frequency | 'NONE', number> = { DAILY: 6, WEEKLY: 9, MONTHLY: 12, NONE: 12 };

export function tokenExpiry(createdAt: number, frequency: Frequency | null): number {
  const d = new Date(createdAt);
  d.setUTCMonth(d.getUTCMonth() + LIFETIME_MONTHS[frequency ?? 'NONE']);
  return d.getTime();
}

// The least time between two marketing messages on one token, so per person, Page and topic (Graph's 4 / 2018354
// below it: "…for the given notification"). Meta's cooldown is 48 hours since 1 September 2025 (24 hours before); a
// WEEKLY or MONTHLY opt-in (the deprecated frequency) keeps its own, longer period. Rolling windows, not calendar ones.
const COOLDOWN_MS: Record<Frequency | 'NONE', number> = { DAILY: 48 * HOUR, WEEKLY: 7 * DAY, MONTHLY: 30 * DAY, NONE: 48 * HOUR };

export function sendCooldownMs(frequency: string | null): number {
  return COOLDOWN_MS[(frequency as Frequency | null) ?? 'NONE'] ?? COOLDOWN_MS.NONE;
}

// 32 random bytes, base64url: 43 characters nobody can guess. Stored only as its SHA-256 and a sealed copy.
export function newNotificationMessagesToken(): string {
  return randomBytes(32).toString('base64url');
}

// The shape of any token this server issued; anything else is unknown without a database read.
export const looksLikeToken = (v: string) => /^[A-Za-z0-9_-]{43}$/.test(v);

export interface TopicRow {
  id: string;
  thread_id: string;
  page_id: string;
  mid: string;
  title: string;
  payload: string;
  frequency: string | null;
  timezone: string;
  token_sealed: string;
  status: 'active' | 'stopped';
  created_at: string | number;
  expires_at: string | number;
  last_sent_at: string | number | null;
  refreshed: boolean;
}

export type TopicStatus = 'active' | 'stopped' | 'expired';

export interface TopicView {
  mid: string;
  title: string;
  payload: string;
  status: TopicStatus;
  opted_in_at: number;
  expires_at: number;
  frequency?: string;
}

export function topicView(r: TopicRow, now = Date.now()): TopicView {
  const expiresAt = Number(r.expires_at);
  return {
    mid: r.mid,
    title: r.title,
    payload: r.payload,
    status: expiresAt <= now ? 'expired' : r.status,
    opted_in_at: Number(r.created_at),
    expires_at: expiresAt,
    ...(r.frequency ? { frequency: r.frequency } : {}),
  };
}

// messaging_optins, in the order of Meta's reference sample: {type, payload, notification_messages_token,
// notification_messages_frequency?, notification_messages_timezone, token_expiry_timestamp, user_token_status?,
// notification_messages_status?, title}. The token is the sealed value the outbox keeps (opened as it goes out).
// An opt-in carries user_token_status (REFRESHED when it replaced an expired token of the topic); a stop or a
// resume carries notification_messages_status instead. Times in ms, as the item's timestamp.
export function optinItem(
  parties: { psid: string; pageId: string },
  r: Pick<TopicRow, 'payload' | 'frequency' | 'timezone' | 'expires_at' | 'title' | 'refreshed'>,
  sealedToken: string,
  change: 'opt_in' | 'STOP_NOTIFICATIONS' | 'RESUME_NOTIFICATIONS',
  timestamp: number,
): Record<string, unknown> {
  return {
    sender: { id: parties.psid },
    recipient: { id: parties.pageId },
    timestamp,
    optin: {
      type: 'notification_messages',
      payload: r.payload,
      notification_messages_token: sealedToken,
      ...(r.frequency ? { notification_messages_frequency: r.frequency } : {}),
      notification_messages_timezone: r.timezone,
      token_expiry_timestamp: Number(r.expires_at),
      ...(change === 'opt_in' ? { user_token_status: r.refreshed ? 'REFRESHED' : 'NOT_REFRESHED' } : { notification_messages_status: change }),
      title: r.title,
    },
  };
}

// The opt-in request of a stored message's content, if it is one.
export function optinRequestOf(content: Record<string, unknown>): NotificationMessagesTemplatePayload | undefined {
  const att = content.attachment as { type?: unknown; payload?: { template_type?: unknown } } | undefined;
  return att?.type === 'template' && att.payload?.template_type === 'notification_messages'
    ? (att.payload as NotificationMessagesTemplatePayload)
    : undefined;
}
