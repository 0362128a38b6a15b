/**
 * A webhook body as the Messenger Platform writes it: JSON with every character outside ASCII escaped as `\uXXXX`
 * in lowercase hex (an emoji as its two UTF-16 halves), so the bytes on the wire are plain ASCII. The signature is
 * over exactly these bytes. A bot that verifies the raw body works, and so does one that re-escapes the body
 * before verifying, as Meta's documentation tells bots to (escaping an all-ASCII body changes nothing).
 */
export function toMessengerJson(value: unknown): string {
  return escapeNonAscii(JSON.stringify(value));
}

const NON_ASCII = /[\u0080-\uffff]/g;

/** `json` with each UTF-16 unit above U+007F written as a lowercase `\uXXXX` escape: the same value, ASCII bytes. */
export function escapeNonAscii(json: string): string {
  return json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
