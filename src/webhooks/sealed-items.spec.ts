import { randomBytes } from 'node:crypto';
import { SecretBox } from '../common/crypto/secret-box';
import { openSealed, openSealedItem, sealValue } from './sealed-items';

describe('sealed outbox fields', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens a sealed marketing messages token in place, keeping the order of the fields', () => {
    const item = { sender: { id: '1' }, optin: { type: 'notification_messages', payload: 'P', notification_messages_token: sealValue(box, 'tok'), title: 'T' } };
    const open = openSealedItem(item, box);
    expect(open.optin.notification_messages_token).toBe('tok');
    expect(Object.keys(open.optin)).toEqual(['type', 'payload', 'notification_messages_token', 'title']);
    // The stored item is not changed.
    expect(item.optin.notification_messages_token.startsWith('sealed:')).toBe(true);
  });

  it('leaves anything else alone', () => {
    const plain = { optin: { notification_messages_token: 'not-sealed' } };
    expect(openSealedItem(plain, box)).toBe(plain);
    const message = { message: { text: 'sealed:xyz' } };
    expect(openSealedItem(message, box)).toBe(message);
    expect(openSealedItem(null, box)).toBeNull();
  });

  it('drops a token sealed under another key rather than failing the event', () => {
    const other = new SecretBox(randomBytes(32));
    const out = openSealedItem({ optin: { type: 'notification_messages', notification_messages_token: sealValue(other, 'tok') } }, box);
    expect(out.optin).toEqual({ type: 'notification_messages' });
  });

  it('opens a sealed value, or answers undefined for one it cannot open', () => {
    expect(openSealed(box, sealValue(box, 'tok'))).toBe('tok');
    expect(openSealed(box, sealValue(new SecretBox(randomBytes(32)), 'tok'))).toBeUndefined();
    expect(openSealed(box, 'sealed:v1.garbage')).toBeUndefined();
    expect(openSealed(box, 'tok')).toBeUndefined();
  });
});
