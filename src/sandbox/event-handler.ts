import { eventKind, EventKind } from '../../libs/bot-sdk/events';
import type { HandlerName } from './runtime';

const HANDLER_OF: Record<EventKind, HandlerName> = {
  message: 'onMessage',
  echo: 'onEcho',
  postback: 'onPostback',
  delivery: 'onDelivery',
  read: 'onRead',
  reaction: 'onReaction',
  edit: 'onEdit',
  template: 'onTemplate',
  feedback: 'onFeedback',
  response_feedback: 'onResponseFeedback',
  optin: 'onOptin',
  referral: 'onReferral',
  account_linking: 'onAccountLinking',
  handover: 'onHandover',
  policy_enforcement: 'onPolicyEnforcement',
  standby: 'onStandby',
};

// Which handler of the script a Messenger messaging item goes to; null: nothing to run (acknowledged).
// `field` standby: an event of a thread another app controls (handover protocol), whatever its kind.
export function handlerFor(item: Record<string, unknown> | null | undefined, field?: string): HandlerName | null {
  const kind = eventKind(item, field === 'standby');
  return kind ? HANDLER_OF[kind] : null;
}

// Hosts a script may declare for ctx.fetch: DNS names only (no IPs, ports or wildcards).
export const ALLOWED_HOST_PATTERN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(\.(?!-)[a-z0-9-]{1,63})+$/;

export function isAllowedHostName(host: string): boolean {
  return ALLOWED_HOST_PATTERN.test(host) && !/^[0-9.]+$/.test(host) && !host.endsWith('.localhost');
}

// Policy of ctx.fetch on the literal URL; the SSRF-safe client then checks every resolved address.
export function refuseFetchUrl(raw: string, allowedHosts: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'invalid URL';
  }
  if (url.protocol !== 'https:') return `only https URLs may be fetched, not ${url.protocol}`;
  if (url.username || url.password) return 'credentials in URLs are not allowed';
  if (url.port && url.port !== '443') return 'only the default https port may be fetched';
  const host = url.hostname.toLowerCase();
  if (!allowedHosts.includes(host)) return `${host} is not among the script's allowed_hosts`;
  return null;
}
