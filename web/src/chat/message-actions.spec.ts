import { describe, expect, it } from '@jest/globals';
import type { MessageView } from '../api';
import {
  EDIT_WINDOW_MS,
  editable,
  editDraft,
  editedMessage,
  reactionAfterPick,
  reactionBadges,
  REACTIONS,
  refusalText,
  sameReaction,
  undoReaction,
  withCouponRevealed,
  withEdit,
  withFeedback,
  withReaction,
  withThumbs,
} from './message-actions';

const msg = (seq: number, sender: 'person' | 'page', extra: Partial<MessageView> = {}): MessageView => ({
  mid: `m_${seq}`,
  seq,
  sender,
  timestamp: 1_000_000 + seq,
  kind: 'message',
  text: `t${seq}`,
  ...extra,
});

describe('reactions', () => {
  it('offers seven, each named', () => {
    expect(REACTIONS.map((r) => r.emoji)).toEqual(['❤️', '😆', '😮', '😢', '😠', '👍', '👎']);
    expect(new Set(REACTIONS.map((r) => r.label)).size).toBe(7);
  });

  it('picking the current one removes it, any other replaces it', () => {
    expect(reactionAfterPick(undefined, '❤️')).toBe('❤️');
    expect(reactionAfterPick('❤️', '👍')).toBe('👍');
    expect(reactionAfterPick('👍', '👍')).toBeNull();
    // Set elsewhere without the variation selector: still the same reaction.
    expect(reactionAfterPick('\u2764', '❤️')).toBeNull();
    // A skin tone makes another one.
    expect(reactionAfterPick('👍🏽', '👍')).toBe('👍');
  });

  it('compares ignoring variation selectors only', () => {
    expect(sameReaction('\u2764\uFE0F', '\u2764')).toBe(true);
    expect(sameReaction(undefined, null)).toBe(true);
    expect(sameReaction('😆', undefined)).toBe(false);
    expect(sameReaction('😆', '😮')).toBe(false);
  });

  it('sets, changes and removes one side’s reaction, leaving the other side’s', () => {
    const list = [msg(1, 'person'), msg(2, 'page')];
    const loved = withReaction(list, 'm_2', 'person', '❤️');
    expect(loved[1].reactions).toEqual({ person: '❤️' });
    expect(loved[0]).toBe(list[0]);
    expect(list[1].reactions).toBeUndefined();
    const both = withReaction(loved, 'm_2', 'page', '🎉');
    expect(both[1].reactions).toEqual({ person: '❤️', page: '🎉' });
    const liked = withReaction(both, 'm_2', 'person', '👍');
    expect(liked[1].reactions).toEqual({ person: '👍', page: '🎉' });
    const pageOff = withReaction(liked, 'm_2', 'page', null);
    expect(pageOff[1].reactions).toEqual({ person: '👍' });
    // None left: no reactions object, as the server lists it.
    const none = withReaction(pageOff, 'm_2', 'person', null);
    expect(none[1]).toEqual(msg(2, 'page'));
    expect('reactions' in none[1]).toBe(false);
  });

  it('keeps the same list when nothing changes or the message is not loaded', () => {
    const list = [msg(1, 'page', { reactions: { page: '🎉' } })];
    expect(withReaction(list, 'm_1', 'page', '🎉')).toBe(list);
    expect(withReaction(list, 'm_1', 'person', null)).toBe(list);
    expect(withReaction(list, 'm_9', 'person', '❤️')).toBe(list);
  });

  it('applies events in cursor order to the same end as the device that reacted', () => {
    // This device picked ❤️ then 👍 (drawn at once); the events of both arrive after.
    let list = [msg(1, 'page')];
    list = withReaction(list, 'm_1', 'person', '❤️');
    list = withReaction(list, 'm_1', 'person', '👍');
    for (const emoji of ['❤️', '👍']) list = withReaction(list, 'm_1', 'person', emoji);
    expect(list[0].reactions).toEqual({ person: '👍' });
  });

  it('undoes a refused reaction only while it is still the one shown', () => {
    const list = withReaction([msg(1, 'page')], 'm_1', 'person', '❤️');
    expect(undoReaction(list, 'm_1', '❤️', null)[0].reactions).toBeUndefined();
    expect(undoReaction(list, 'm_1', '❤️', '😆')[0].reactions).toEqual({ person: '😆' });
    // Replaced meanwhile (a later pick, another device): left alone.
    expect(undoReaction(list, 'm_1', '👍', null)).toBe(list);
    // A refused removal puts the reaction back.
    expect(undoReaction([msg(1, 'page')], 'm_1', null, '❤️')[0].reactions).toEqual({ person: '❤️' });
  });

  it('names each side’s reaction, the person’s first', () => {
    expect(reactionBadges(msg(1, 'person', { reactions: { page: '🎉', person: '😆' } }), 'Acme')).toEqual([
      { by: 'person', emoji: '😆', label: 'You reacted 😆' },
      { by: 'page', emoji: '🎉', label: 'Acme reacted 🎉' },
    ]);
    expect(reactionBadges(msg(1, 'person'), 'Acme')).toEqual([]);
  });
});

describe('edits', () => {
  const sent = msg(3, 'person', { text: 'I want a blue one' });
  const now = sent.timestamp + 60_000;

  it('are offered on the person’s own text messages only', () => {
    expect(editable(sent, now)).toBe(true);
    expect(editable(msg(3, 'page'), now)).toBe(false);
    expect(editable({ ...sent, kind: 'postback', text: undefined, postback: { title: 'Buy', payload: 'B' } }, now)).toBe(false);
    expect(editable({ ...sent, quick_reply: { payload: 'QR_RED' } }, now)).toBe(false);
    expect(editable({ ...sent, text: undefined, attachments: [{ type: 'image', payload: {} }] }, now)).toBe(false);
    // A photo with a caption: the caption can be edited, as the server allows.
    expect(editable({ ...sent, attachments: [{ type: 'image', payload: {} }] }, now)).toBe(true);
  });

  it('at most five times, within 15 minutes of sending', () => {
    expect(editable({ ...sent, num_edit: 4 }, now)).toBe(true);
    expect(editable({ ...sent, num_edit: 5 }, now)).toBe(false);
    expect(editable(sent, sent.timestamp + EDIT_WINDOW_MS)).toBe(true);
    expect(editable(sent, sent.timestamp + EDIT_WINDOW_MS + 1)).toBe(false);
  });

  it('take the new text and count, and never go back to an older edit', () => {
    const list = [msg(1, 'page'), sent];
    const first = withEdit(list, { ...sent, text: 'I want a green one', num_edit: 1 });
    expect(first[1]).toEqual({ ...sent, text: 'I want a green one', num_edit: 1 });
    expect(first[0]).toBe(list[0]);
    // Another device's edit (an event) overtook this device's answer: the answer changes nothing.
    const third = withEdit(first, { ...sent, text: 'version 3', num_edit: 3 });
    expect(withEdit(third, { ...sent, text: 'version 2', num_edit: 2 })).toBe(third);
    expect(third[1].text).toBe('version 3');
    // The same edit twice (the answer, then its event): nothing new.
    expect(withEdit(third, { ...sent, text: 'version 3', num_edit: 3 })).toBe(third);
    // Not loaded here: left to history.
    expect(withEdit(list, { ...msg(9, 'person'), num_edit: 1 })).toBe(list);
  });

  it('keep the reactions shown here (their own events keep them current)', () => {
    const reacted = { ...sent, reactions: { page: '🎉' } };
    expect(editedMessage(reacted, { ...sent, text: 'new', num_edit: 1 })).toEqual({ ...reacted, text: 'new', num_edit: 1 });
    expect(editedMessage(reacted, { ...msg(4, 'person'), num_edit: 1 })).toBe(reacted);
  });

  it('send the trimmed text, nothing when unchanged, and say why when they can’t', () => {
    expect(editDraft('a', '  b  ')).toEqual({ kind: 'send', text: 'b' });
    expect(editDraft('a', ' a ')).toEqual({ kind: 'unchanged' });
    expect(editDraft('a', '   ')).toEqual({ kind: 'invalid', hint: 'A message can’t be empty.' });
    expect(editDraft('a', 'x'.repeat(2000))).toEqual({ kind: 'invalid', hint: 'At most 1999 characters.' });
    expect(editDraft('a', 'x'.repeat(1999)).kind).toBe('send');
  });
});

describe('refusals', () => {
  it('are the server’s message, or the network’s failure', () => {
    expect(refusalText({ status: 409, message: 'A message can be edited at most 5 times' })).toBe(
      'A message can be edited at most 5 times',
    );
    expect(refusalText({ status: 502, message: '' })).toBe('HTTP 502');
    expect(refusalText(new TypeError('Failed to fetch'))).toBe('The network failed: try again.');
    expect(refusalText(undefined)).toBe('The network failed: try again.');
  });
});

describe('coupons', () => {
  const coupon = (extra: Partial<MessageView> = {}) =>
    msg(2, 'page', {
      text: undefined,
      attachment: { type: 'template', payload: { template_type: 'coupon', title: '10% off', payload: 'SUMMER' } },
      coupon: { revealed: false },
      ...extra,
    });

  it('shows the code once revealed, from the answer or an event, and leaves the rest as it is', () => {
    const list = [msg(1, 'person'), coupon()];
    const after = withCouponRevealed(list, 'm_2', '10PERCENT', 5);
    expect(after[1]).toEqual({
      ...list[1],
      attachment: { type: 'template', payload: { template_type: 'coupon', title: '10% off', payload: 'SUMMER', coupon_code: '10PERCENT' } },
      coupon: { revealed: true, revealed_at: 5 },
    });
    expect(after[0]).toBe(list[0]);
    // The second of the answer and the event changes nothing.
    expect(withCouponRevealed(after, 'm_2', '10PERCENT', 6)).toBe(after);
  });

  it('ignores what is not a coupon here', () => {
    const list = [msg(1, 'person'), coupon()];
    expect(withCouponRevealed(list, 'm_9', 'X', 1)).toBe(list);
    expect(withCouponRevealed(list, 'm_1', 'X', 1)).toBe(list);
  });
});

describe('feedback answered', () => {
  const survey = (extra: Partial<MessageView> = {}) => msg(2, 'page', { text: undefined, feedback: { expires_at: 9 }, ...extra });
  const answer = { expires_at: 9, submitted_at: 5, feedback_screens: [{ screen_id: 0, questions: { q: { type: 'nps', payload: '9' } } }] };

  it('shows the answer on the request, once', () => {
    const list = [msg(1, 'person'), survey()];
    const after = withFeedback(list, 'm_2', answer);
    expect(after[1]).toEqual({ ...list[1], feedback: answer });
    expect(after[0]).toBe(list[0]);
    // The answer and its event both arrive: the second changes nothing.
    expect(withFeedback(after, 'm_2', { ...answer, submitted_at: 6 })).toBe(after);
  });

  it('ignores what is not a request loaded here', () => {
    const list = [msg(1, 'person'), survey()];
    expect(withFeedback(list, 'm_9', answer)).toBe(list);
    expect(withFeedback(list, 'm_1', answer)).toBe(list);
  });
});

describe('thumbs on a bot message', () => {
  it('sets, changes and undoes a thumb; the same thumb again changes nothing', () => {
    const list = [msg(1, 'person'), msg(2, 'page', { thumbs: true })];
    const up = withThumbs(list, 'm_2', 'good');
    expect(up[1]).toEqual({ ...list[1], response_feedback: 'good' });
    expect(withThumbs(up, 'm_2', 'good')).toBe(up);
    expect(withThumbs(up, 'm_2', 'bad')[1].response_feedback).toBe('bad');
    // A refused first thumb is put back to none.
    expect(withThumbs(up, 'm_2', undefined)[1]).toEqual(list[1]);
    expect(withThumbs(list, 'm_9', 'good')).toBe(list);
  });
});
