import { createHmac } from 'node:crypto';
import { escapeNonAscii, toMessengerJson } from './messenger-json';
import { verifyMessenger } from './messenger';

describe('toMessengerJson', () => {
  const payload = { object: 'page', entry: [{ id: '1', messaging: [{ message: { text: 'äöå 😀 ok/ü "q" \\ \u2028', mid: 'm_1' } }] }] };

  it('writes non-ASCII as lowercase \\u escapes (an emoji as its surrogate pair), the rest as JSON.stringify does', () => {
    const body = toMessengerJson(payload);
    expect(body).toContain('\\u00e4\\u00f6\\u00e5 \\ud83d\\ude00 ok/\\u00fc \\"q\\" \\\\ \\u2028');
    expect(/^[\x20-\x7e]*$/.test(body)).toBe(true);
    expect(JSON.parse(body)).toEqual(payload);
    expect(toMessengerJson({ a: 'plain', n: 1 })).toBe(JSON.stringify({ a: 'plain', n: 1 }));
  });

  it('verifies both as raw bytes and after a bot re-escapes the body, as Meta tells bots to', () => {
    const secret = 'app-secret';
    const body = toMessengerJson(payload);
    const header = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    expect(verifyMessenger(Buffer.from(body), header, secret)).toBe(true);
    expect(verifyMessenger(escapeNonAscii(body), header, secret)).toBe(true);
    // The bot that parses and re-escapes (jsesc-style) gets the same bytes back.
    expect(escapeNonAscii(JSON.stringify(JSON.parse(body)))).toBe(body);
    // Raw UTF-8 of the same JSON would not verify: these are different bytes.
    expect(verifyMessenger(Buffer.from(JSON.stringify(payload)), header, secret)).toBe(false);
  });
});
