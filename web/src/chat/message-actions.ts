// Reactions and edits: the pure rules, kept apart from Preact so jest can test them (message-actions.spec.ts).
import type { FeedbackState, MessageView } from '../api';

// The picker's reactions, as Messenger offers them; the label names each for screen readers.
export const REACTIONS: ReadonlyArray<{ emoji: string; label: string }> = [
  { emoji: '❤️', label: 'Love' },
  { emoji: '😆', label: 'Haha' },
  { emoji: '😮', label: 'Wow' },
  { emoji: '😢', label: 'Sad' },
  { emoji: '😠', label: 'Angry' },
  { emoji: '👍', label: 'Like' },
  { emoji: '👎', label: 'Dislike' },
];

// Messenger's limits, which the server enforces (src/messaging: THREAD.EDIT_LIMIT, THREAD.EDIT_WINDOW_CLOSED).
export const MAX_EDITS = 5;
export const EDIT_WINDOW_MS = 15 * 60_000;
// As a message's text (EditMessageDto): 1–1999 characters, not blank.
export const MAX_TEXT = 1999;

const VARIATION = /[\uFE0E\uFE0F]/g;

// ❤ and ❤️ are one reaction: another client may send it without the variation selector. Skin tones differ.
export function sameReaction(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.replace(VARIATION, '') === b.replace(VARIATION, '');
}

// What picking a reaction asks for: the one already there is removed (null), any other is set.
export function reactionAfterPick(current: string | undefined, picked: string): string | null {
  return sameReaction(current, picked) ? null : picked;
}

// One side's reaction set (emoji) or removed (null) on message `mid`. A message not loaded here is left to
// history, which carries its reactions; the same list comes back when nothing changes.
export function withReaction(
  list: MessageView[],
  mid: string,
  by: 'person' | 'page',
  emoji: string | null,
): MessageView[] {
  const i = list.findIndex((m) => m.mid === mid);
  if (i < 0 || (list[i].reactions?.[by] ?? null) === emoji) return list;
  const reactions = { ...list[i].reactions };
  if (emoji === null) delete reactions[by];
  else reactions[by] = emoji;
  const m: MessageView = { ...list[i], reactions };
  if (!reactions.person && !reactions.page) delete m.reactions;
  const out = [...list];
  out[i] = m;
  return out;
}

// A refused reaction is undone, unless something newer (another pick, an event) replaced it meanwhile.
export function undoReaction(list: MessageView[], mid: string, tried: string | null, previous: string | null): MessageView[] {
  const m = list.find((x) => x.mid === mid);
  if (!m || (m.reactions?.person ?? null) !== tried) return list;
  return withReaction(list, mid, 'person', previous);
}

// An edit (the PATCH's answer, or an `edit` event from another device) brings the new text and count. Edits
// only add up: an answer overtaken by a later edit (a smaller num_edit) changes nothing. Reactions and media
// stay as they are here (their own events keep them current).
export function editedMessage(m: MessageView, edited: MessageView): MessageView {
  if (m.mid !== edited.mid || (edited.num_edit ?? 0) < (m.num_edit ?? 0)) return m;
  if (m.text === edited.text && m.num_edit === edited.num_edit) return m;
  return { ...m, text: edited.text, num_edit: edited.num_edit };
}

export function withEdit(list: MessageView[], edited: MessageView): MessageView[] {
  const i = list.findIndex((m) => m.mid === edited.mid);
  if (i < 0) return list;
  const m = editedMessage(list[i], edited);
  if (m === list[i]) return list;
  const out = [...list];
  out[i] = m;
  return out;
}

// A coupon's code revealed (the reveal's answer, or a `coupon_reveal` event from any of the person's devices): the
// code joins the coupon, which shows it from then on. A message not loaded here is left to history; one already
// revealed stays as it is (the same list comes back).
export function withCouponRevealed(list: MessageView[], mid: string, code: string, revealedAt: number): MessageView[] {
  const i = list.findIndex((m) => m.mid === mid);
  const m = list[i];
  if (i < 0 || m.coupon?.revealed || m.attachment?.type !== 'template' || m.attachment.payload.template_type !== 'coupon') return list;
  const out = [...list];
  out[i] = {
    ...m,
    attachment: { ...m.attachment, payload: { ...m.attachment.payload, coupon_code: code } },
    coupon: { revealed: true, revealed_at: revealedAt },
  };
  return out;
}

// A feedback request answered (this device's answer, or a `feedback` event from any of the person's devices): the
// request shows the answer from then on. A message not loaded here is left to history.
export function withFeedback(list: MessageView[], mid: string, feedback: FeedbackState): MessageView[] {
  const i = list.findIndex((m) => m.mid === mid);
  if (i < 0 || !list[i].feedback || list[i].feedback!.submitted_at !== undefined) return list;
  const out = [...list];
  out[i] = { ...list[i], feedback };
  return out;
}

// A thumbs up or down on a bot's message (drawn at once; the server's answer or event confirms it, a refusal puts
// back `previous`). The same thumb again changes nothing (the same list comes back).
export function withThumbs(list: MessageView[], mid: string, feedback: 'good' | 'bad' | undefined): MessageView[] {
  const i = list.findIndex((m) => m.mid === mid);
  if (i < 0 || list[i].response_feedback === feedback) return list;
  const out = [...list];
  const { response_feedback: _, ...rest } = list[i];
  out[i] = feedback ? { ...rest, response_feedback: feedback } : rest;
  return out;
}

// Whether the Edit action shows: the person's own text messages (not postbacks, not a quick reply's answer,
// not media without text), fewer than 5 edits, within 15 minutes of sending. The clock is the device's: the
// server checks again, and its refusal is shown.
export function editable(m: MessageView, now: number): boolean {
  return (
    m.sender === 'person' &&
    m.kind === 'message' &&
    !m.quick_reply &&
    typeof m.text === 'string' &&
    m.text.length > 0 &&
    (m.num_edit ?? 0) < MAX_EDITS &&
    now - m.timestamp <= EDIT_WINDOW_MS
  );
}

// The edit form's draft: what Save sends (trimmed, as the composer sends), or why it can't. An unchanged text
// sends nothing (the server would count no edit anyway): Save just closes the form.
export type EditDraft = { kind: 'send'; text: string } | { kind: 'unchanged' } | { kind: 'invalid'; hint: string };
export function editDraft(original: string | undefined, draft: string): EditDraft {
  const text = draft.trim();
  if (!text) return { kind: 'invalid', hint: 'A message can’t be empty.' };
  if (text.length > MAX_TEXT) return { kind: 'invalid', hint: `At most ${MAX_TEXT} characters.` };
  if (text === original) return { kind: 'unchanged' };
  return { kind: 'send', text };
}

// The reactions under a message, the person's first, each with what a screen reader says.
export function reactionBadges(m: MessageView, pageName: string): { by: 'person' | 'page'; emoji: string; label: string }[] {
  const out: { by: 'person' | 'page'; emoji: string; label: string }[] = [];
  if (m.reactions?.person) out.push({ by: 'person', emoji: m.reactions.person, label: `You reacted ${m.reactions.person}` });
  if (m.reactions?.page) out.push({ by: 'page', emoji: m.reactions.page, label: `${pageName} reacted ${m.reactions.page}` });
  return out;
}

// A refused action in words: the server's message (its error body), or the network's failure.
export function refusalText(err: unknown): string {
  const e = err as { status?: unknown; message?: unknown } | null;
  if (e && typeof e.status === 'number') return typeof e.message === 'string' && e.message ? e.message : `HTTP ${e.status}`;
  return 'The network failed: try again.';
}
