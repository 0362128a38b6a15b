import type { SecretBox } from '../common/crypto/secret-box';

// A secret an event must carry to its app (a marketing messages token) is stored in the outbox sealed under
// SECRETS_KEY, never in the clear, and opened only as the event goes out (webhook, pull, hosted script, the
// delivery log), as signed media URLs are minted then. Plain TypeScript: the unit spec imports it.
export const SEALED_PREFIX = 'sealed:';

export const sealValue = (box: SecretBox, plain: string): string => `${SEALED_PREFIX}${box.seal(plain)}`;

// A value sealValue wrote, opened; undefined when it can't be (sealed under another SECRETS_KEY after a rotation,
// or not sealed at all). What carries it then goes out without the secret rather than failing whole: the secret
// can't be recovered, and the rest is still true.
export function openSealed(box: SecretBox, sealed: string): string | undefined {
  if (!sealed.startsWith(SEALED_PREFIX)) return undefined;
  try {
    return box.open(sealed.slice(SEALED_PREFIX.length));
  } catch {
    return undefined;
  }
}

// The item as its app gets it. Only the one field that is ever sealed is looked at: an item without it is
// returned as is (the same object).
export function openSealedItem<T>(item: T, box: SecretBox): T {
  const optin = (item as { optin?: { notification_messages_token?: unknown } } | null)?.optin;
  const sealed = optin?.notification_messages_token;
  if (typeof sealed !== 'string' || !sealed.startsWith(SEALED_PREFIX)) return item;
  const token = openSealed(box, sealed);
  if (token === undefined) {
    // Sealed under another SECRETS_KEY (rotated): the app can no longer be given it; the field goes, not the event.
    const { notification_messages_token: _gone, ...rest } = optin as Record<string, unknown>;
    void _gone;
    return { ...(item as object), optin: rest } as T;
  }
  return { ...(item as object), optin: { ...optin, notification_messages_token: token } } as T;
}
