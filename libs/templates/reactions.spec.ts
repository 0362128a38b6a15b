import { isReactionEmoji, reactionName } from './reactions';

describe('reactions', () => {
  it("names Messenger's seven reactions, ignoring skin tone and variation selector", () => {
    expect(['😆', '😠', '😢', '😮', '❤', '❤️', '😍', '👍', '👍🏿', '👎'].map(reactionName)).toEqual([
      'smile', 'angry', 'sad', 'wow', 'love', 'love', 'love', 'like', 'like', 'dislike',
    ]);
  });
  it('calls any other emoji other', () => {
    expect(['🎉', '😊', '🇫🇮', '👩‍👩‍👧'].map(reactionName)).toEqual(['other', 'other', 'other', 'other']);
  });
  it('accepts one emoji and nothing else', () => {
    for (const e of ['😊', '👍🏽', '❤️', '👩‍👩‍👧', '🇫🇮', '#️⃣', '1️⃣']) expect(isReactionEmoji(e)).toBe(true);
    for (const e of ['', 'a', '1', '😊😊', '😊 ', ':)', '🇫', '<b>😊</b>', '😊'.repeat(20), 42, null]) expect(isReactionEmoji(e)).toBe(false);
  });
});
