// What a Messenger webhook item is, by the key that carries it: one name for each event a bot handles.
// Shared by the SDK's dispatch and the platform's hosted scripts (src/sandbox maps each kind to a handler).

export const EVENT_KINDS = [
  'message',
  'echo',
  'postback',
  'delivery',
  'read',
  'reaction',
  'edit',
  'template',
  'feedback',
  'response_feedback',
  'optin',
  'referral',
  'account_linking',
  'handover',
  'policy_enforcement',
  'standby',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * The kind of one `entry[].messaging[]` item (or `entry[].standby[]`: `standby` whatever it holds, the handover
 * protocol's copy of a thread another app controls); null for what no bot handles.
 */
export function eventKind(item: Record<string, unknown> | null | undefined, standby = false): EventKind | null {
  if (!item || typeof item !== 'object') return null;
  if (standby) return 'standby';
  const message = item.message as { is_echo?: boolean } | undefined;
  if (message && typeof message === 'object') return message.is_echo ? 'echo' : 'message';
  if (item.postback) return 'postback';
  if (item.delivery) return 'delivery';
  if (item.read) return 'read';
  if (item.reaction) return 'reaction';
  if (item.message_edit) return 'edit';
  // A coupon's "Reveal code" tapped: {template: {type: 'coupon', payload?, coupon_code}}.
  if (item.template) return 'template';
  // A customer feedback template answered: {messaging_feedback: {feedback_screens}}.
  if (item.messaging_feedback) return 'feedback';
  // A thumbs up or down on one of the app's messages: {response_feedback: {feedback, mid}}.
  if (item.response_feedback) return 'response_feedback';
  if (item.optin) return 'optin';
  if (item.referral) return 'referral';
  if (item.account_linking) return 'account_linking';
  // Handover protocol notices; app_roles (an admin changed the app's role) is about the Page: no sender.
  if (item.pass_thread_control || item.take_thread_control || item.request_thread_control || item.release_thread_control || item.app_roles) return 'handover';
  if (item.policy_enforcement) return 'policy_enforcement';
  return null;
}
