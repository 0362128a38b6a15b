import { checkFeedbackAnswers, feedbackExpiresAt, feedbackScale } from './customer-feedback';
import { customerFeedback, feedbackQuestion, metaCustomerFeedback, str } from './fixtures';
import type { CustomerFeedbackTemplatePayload } from './types';

const template = (q: object = {}) =>
  customerFeedback({ feedback_screens: [{ questions: [feedbackQuestion(q)] }] }) as unknown as CustomerFeedbackTemplatePayload;
const meta = metaCustomerFeedback() as unknown as CustomerFeedbackTemplatePayload;

describe('feedbackScale', () => {
  it.each([
    [{ type: 'csat' }, { option: 'five_stars', min: 1, max: 5 }],
    [{ type: 'csat', score_option: 'five_emojis' }, { option: 'five_emojis', min: 1, max: 5 }],
    [{ type: 'nps' }, { option: 'zero_to_ten', min: 0, max: 10 }],
    [{ type: 'ces' }, { option: 'one_to_seven', min: 1, max: 7 }],
  ])('%j draws %j', (q, scale) => {
    expect(feedbackScale(feedbackQuestion(q) as never)).toEqual(scale);
  });
});

describe('feedbackExpiresAt', () => {
  it('is expires_in_days after the send, one day when absent', () => {
    expect(feedbackExpiresAt({ expires_in_days: 3 }, 1_000)).toBe(1_000 + 3 * 86_400_000);
    expect(feedbackExpiresAt({}, 1_000)).toBe(1_000 + 86_400_000);
  });
});

describe('checkFeedbackAnswers', () => {
  it("writes Meta's messaging_feedback body: screen 0, the question's id as key, the score as a string", () => {
    expect(checkFeedbackAnswers(meta, [{ question_id: 'hauydmns8', score: 4, follow_up: 'Good service!' }])).toEqual({
      item: {
        feedback_screens: [
          { screen_id: 0, questions: { hauydmns8: { type: 'csat', payload: '4', follow_up: { type: 'free_form', payload: 'Good service!' } } } },
        ],
      },
    });
  });

  it('leaves follow_up out when the person wrote nothing (absent, empty or null)', () => {
    for (const follow_up of [undefined, '', null]) {
      expect(checkFeedbackAnswers(meta, [{ question_id: 'hauydmns8', score: 1, follow_up }])).toEqual({
        item: { feedback_screens: [{ screen_id: 0, questions: { hauydmns8: { type: 'csat', payload: '1' } } }] },
      });
    }
  });

  it.each([
    ['csat', 0, false],
    ['csat', 1, true],
    ['csat', 5, true],
    ['csat', 6, false],
    ['nps', 0, true],
    ['nps', 10, true],
    ['nps', 11, false],
    ['ces', 7, true],
    ['ces', 8, false],
    ['csat', 2.5, false],
    ['nps', -1, false],
  ])('%s takes %d: %s', (type, score, ok) => {
    const result = checkFeedbackAnswers(template({ type }), [{ question_id: 'hauydmns8', score }]);
    expect('item' in result).toBe(ok);
    if (!ok) expect(result).toEqual({ error: expect.stringMatching(/^score of question hauydmns8 must be a whole number from \d+ to \d+$/), index: 0 });
  });

  it('refuses an unknown question, a question answered twice, a missing answer', () => {
    expect(checkFeedbackAnswers(meta, [{ question_id: 'other', score: 3 }])).toEqual({
      error: 'question_id "other" is not a question of this feedback request',
      index: 0,
    });
    expect(
      checkFeedbackAnswers(meta, [
        { question_id: 'hauydmns8', score: 3 },
        { question_id: 'hauydmns8', score: 4 },
      ]),
    ).toEqual({ error: 'question hauydmns8 is answered twice', index: 1 });
    expect(checkFeedbackAnswers(meta, [])).toEqual({ error: 'question hauydmns8 must be answered' });
  });

  it('takes a null follow_up as none, on a question that asks for none too', () => {
    expect(checkFeedbackAnswers(template(), [{ question_id: 'hauydmns8', score: 3, follow_up: null }])).toEqual({
      item: { feedback_screens: [{ screen_id: 0, questions: { hauydmns8: { type: 'csat', payload: '3' } } }] },
    });
  });

  it('takes follow-up text only where the question asks for it, at most 400 characters', () => {
    expect(checkFeedbackAnswers(template(), [{ question_id: 'hauydmns8', score: 3, follow_up: 'hi' }])).toEqual({
      error: 'question hauydmns8 asks for no follow-up text',
      index: 0,
    });
    expect('item' in checkFeedbackAnswers(meta, [{ question_id: 'hauydmns8', score: 3, follow_up: str(400, '😀') }])).toBe(true);
    expect(checkFeedbackAnswers(meta, [{ question_id: 'hauydmns8', score: 3, follow_up: str(401) }])).toEqual({
      error: 'follow_up of question hauydmns8 must be at most 400 characters',
      index: 0,
    });
  });
});
