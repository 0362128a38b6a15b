import { describe, expect, it } from '@jest/globals';
import type { MessageView, Persona } from '../api';
import { initial, personaByline, typingByline } from './persona';

const ada: Persona = {
  id: '11',
  name: 'Ada (support)',
  profile_picture_url: 'http://h/media/7/thumb.webp?exp=9&sig=s',
};
const grace: Persona = { id: '12', name: 'Grace' };
const msg = (seq: number, sender: 'person' | 'page', persona?: Persona): MessageView => ({
  mid: `m_${seq}`,
  seq,
  sender,
  timestamp: seq,
  kind: 'message',
  text: `text ${seq}`,
  ...(persona ? { persona } : {}),
});

describe('persona bylines', () => {
  it("name the persona and the Page, with the persona's picture and initial", () => {
    expect(personaByline([msg(1, 'page', ada)], 0, 'Acme')).toEqual({
      personaId: '11',
      name: 'Ada (support)',
      text: 'Ada (support) · Acme',
      picture: ada.profile_picture_url,
      initial: 'A',
    });
    // No picture: the initial alone.
    expect(personaByline([msg(1, 'page', grace)], 0, 'Acme')).toEqual({
      personaId: '12',
      name: 'Grace',
      text: 'Grace · Acme',
      initial: 'G',
    });
  });

  it('stand above "typing…" when the Page types as a persona, as above its messages', () => {
    expect(typingByline(ada, 'Acme')).toEqual(personaByline([msg(1, 'page', ada)], 0, 'Acme'));
    expect(typingByline(grace, 'Acme')).toEqual({ personaId: '12', name: 'Grace', text: 'Grace · Acme', initial: 'G' });
  });

  it('are only for Page messages sent as a persona', () => {
    expect(personaByline([msg(1, 'page')], 0, 'Acme')).toBeUndefined();
    // A persona on the person's own message (not something the server sends) is not drawn.
    expect(personaByline([msg(1, 'person', ada)], 0, 'Acme')).toBeUndefined();
    expect(personaByline([], 0, 'Acme')).toBeUndefined();
  });

  it("go on the first of a persona's consecutive messages; anything else in between starts a new run", () => {
    const msgs = [
      msg(1, 'page', ada),
      msg(2, 'page', ada),
      msg(3, 'page', grace),
      msg(4, 'page', ada),
      msg(5, 'person'),
      msg(6, 'page', ada),
      msg(7, 'page'),
      msg(8, 'page', ada),
    ];
    const shown = msgs.map((_, i) => personaByline(msgs, i, 'Acme')?.name ?? null);
    expect(shown).toEqual([
      'Ada (support)',
      null,
      'Grace',
      'Ada (support)',
      null,
      'Ada (support)',
      null,
      'Ada (support)',
    ]);
  });
});

describe('initials', () => {
  it('take the first letter or digit, upper-cased', () => {
    expect(initial('ada')).toBe('A');
    expect(initial('(bot) Ada')).toBe('B');
    expect(initial('Émile')).toBe('É');
    expect(initial('7 Eleven')).toBe('7');
    expect(initial('🙂 Åsa')).toBe('Å');
    expect(initial('💬')).toBe('?');
    expect(initial('')).toBe('?');
  });
});
