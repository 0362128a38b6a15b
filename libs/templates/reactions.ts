// Emoji reactions as Messenger names them (the message_reactions webhook, reference §1).

/** The names a `message_reactions` webhook gives; any other emoji is `other`. */
export const REACTION_NAMES = ['smile', 'angry', 'sad', 'wow', 'love', 'like', 'dislike', 'other'] as const;
export type ReactionName = (typeof REACTION_NAMES)[number];

// Matched with variation selectors and skin tones removed, so 👍🏽 is `like` and ❤️ (with U+FE0F) is `love`.
const NAMED: Record<string, ReactionName> = {
  '\u{1F606}': 'smile',
  '\u{1F620}': 'angry',
  '\u{1F622}': 'sad',
  '\u{1F62E}': 'wow',
  '\u{2764}': 'love',
  '\u{1F60D}': 'love',
  '\u{1F44D}': 'like',
  '\u{1F44E}': 'dislike',
};

const VARIATION_AND_TONE = /[\u{FE0E}\u{FE0F}\u{1F3FB}-\u{1F3FF}]/gu;

// One emoji: a pictograph (optionally a ZWJ sequence, with skin tones and variation selectors), a flag (two
// regional indicators) or a keycap. Bounded so a "reaction" can't carry text.
const ONE_EMOJI =
  /^(?:(?:\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]*)(?:\u{200D}\p{Extended_Pictographic}[\u{FE0F}\u{1F3FB}-\u{1F3FF}]*){0,6}|\p{Regional_Indicator}{2}|[#*0-9]\u{FE0F}?\u{20E3})$/u;
const MAX_EMOJI_UTF16 = 32;

/** True when `value` is exactly one emoji (what a reaction may be). */
export function isReactionEmoji(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_EMOJI_UTF16 && ONE_EMOJI.test(value);
}

/** Messenger's name for an emoji reaction: smile, angry, sad, wow, love, like, dislike, or other. */
export function reactionName(emoji: string): ReactionName {
  return NAMED[emoji.replace(VARIATION_AND_TONE, '')] ?? 'other';
}
