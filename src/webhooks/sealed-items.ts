import type { SecretBox } from '../common/crypto/secret-box';

// A secret an event must carry to its app (a marketing messages token) is stored in the outbox sealed under
// SECRETS_KEY, never in the clear, and opened only as the event goes out (webhook, pull, hosted script, the
// delivery log), as signed media URLs are minted then. Plain TypeScript: the unit spec imports it.
export const SEALED_PREFIX = 'sealed:';

export const sealValue = (box: SecretBox, plain: string): string => `${SEALED_PREFIX}${box.seal(plain)}`;

// The item as its app gets it. Only the one field that is ever sealed is looked at: an item without it is
// returned as is (the same object).
export function openSealedItem<T>(item: T, box: SecretBox): T {
  const optin = (item as { optin?: { notification_messages_token?: unknown } } | null)?.optin;
  const sealed = optin?.notification_messages_token;
  if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) return item;
  let token: string;
  try {
    token = box.open(sealed.slice(SEALED_PREFIX.length));
  } catch {
    // Sealed under another SECRETS_KEY (rotated): the app can no longer be given it; the field goes, not the event.
    const { notification_messages_token: _gone, ...rest } = optin as Record<string, unknown>;
    void _gone;
    return { ...(item as object), optin: rest } as T;
  }
  return { ...(item as object), optin: { ...optin, notification_messages_token: token } } as T;
}
