import { toStorableText, unstorableTextPath } from './storable-text';

describe('unstorableTextPath', () => {
  it('finds a NUL character or an unpaired surrogate, in a value or a key, and names where', () => {
    expect(unstorableTextPath({ text: 'a\u0000b' })).toEqual(['text']);
    expect(unstorableTextPath({ message: { quick_replies: [{ title: 'ok' }, { payload: 'x\ud800' }] } })).toEqual(['message', 'quick_replies', 1, 'payload']);
    expect(unstorableTextPath({ a: ['\udc00 alone'] })).toEqual(['a', 0]);
    expect(unstorableTextPath({ ['k\u0000']: 'v' })).toEqual(['k\u0000']);
    expect(unstorableTextPath('top\u0000')).toEqual([]);
  });

  it('takes well-formed text, emoji (paired surrogates) included, and what is not text', () => {
    expect(unstorableTextPath({ text: 'Hi äöå 👋 \ud83d\ude00', n: 1, ok: true, none: null, list: [1, 'x'] })).toBeUndefined();
    expect(unstorableTextPath(Buffer.from([0, 0xd8, 0]))).toBeUndefined();
    expect(unstorableTextPath(undefined)).toBeUndefined();
  });

  it('walks deep nesting without recursion', () => {
    let deep: unknown = 'bad\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(unstorableTextPath(deep)).toHaveLength(100_000);
  });
});

describe('toStorableText', () => {
  it('replaces each NUL and unpaired surrogate with U+FFFD, and leaves the rest, emoji included', () => {
    expect(toStorableText('a\u0000b\u0000')).toBe('a\ufffdb\ufffd');
    expect(toStorableText('x\ud800 \udc00y 👋')).toBe('x\ufffd \ufffdy 👋');
    const clean = 'EVENT_RECEIVED äöå';
    expect(toStorableText(clean)).toBe(clean);
    expect(unstorableTextPath(toStorableText('\u0000\ud83d'))).toBeUndefined();
  });
});
