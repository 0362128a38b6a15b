// A person's answers to a customer feedback template, checked against it and written as Messenger's
// `messaging_feedback` webhook item. Plain TypeScript: the platform's route and any chat client share it (so it
// imports no validator library: the browser bundle takes it whole).
import { FEEDBACK_SCORE_OPTIONS, FEEDBACK_SCORE_RANGE, LIMITS } from './constants';
import type { CustomerFeedbackTemplatePayload, FeedbackQuestion } from './types';

const DAY_MS = 86_400_000;

/**
 * One answer: the question's `id`, a score on its scale, and text when the question has a free-form follow-up
 * (null, as empty, is no text: a client may write null for a box left blank).
 */
export interface FeedbackAnswer {
  question_id: string;
  score: number;
  follow_up?: string | null;
}

/** The body of Messenger's `messaging_feedback` item. */
export interface FeedbackScreensItem {
  feedback_screens: {
    screen_id: number;
    questions: Record<string, { type: string; payload: string; follow_up?: { type: 'free_form'; payload: string } }>;
  }[];
}

/** The scale a question is drawn with and the scores it takes. */
export function feedbackScale(q: FeedbackQuestion): { option: string; min: number; max: number } {
  return { option: q.score_option ?? FEEDBACK_SCORE_OPTIONS[q.type][0], ...FEEDBACK_SCORE_RANGE[q.type] };
}

/** When the person can no longer answer (ms): `expires_in_days` (1 when absent) after the template was sent. */
export function feedbackExpiresAt(template: Pick<CustomerFeedbackTemplatePayload, 'expires_in_days'>, sentAt: number): number {
  return sentAt + (template.expires_in_days ?? 1) * DAY_MS;
}

/**
 * Checks that `answers` score every question of `template` exactly once, each on its own scale, with follow-up
 * text only where the question asks for it. Answers the webhook's item, or why not (with the answer's index).
 */
export function checkFeedbackAnswers(
  template: Pick<CustomerFeedbackTemplatePayload, 'feedback_screens'>,
  answers: readonly FeedbackAnswer[],
): { item: FeedbackScreensItem } | { error: string; index?: number } {
  const located = new Map<string, { screen: number; question: FeedbackQuestion }>();
  template.feedback_screens.forEach((s, screen) => s.questions.forEach((question) => located.set(question.id, { screen, question })));
  const given = new Map<string, FeedbackAnswer>();
  for (const [index, a] of answers.entries()) {
    const at = located.get(a.question_id);
    if (!at) return { error: `question_id ${JSON.stringify(a.question_id)} is not a question of this feedback request`, index };
    if (given.has(a.question_id)) return { error: `question ${a.question_id} is answered twice`, index };
    const { min, max } = feedbackScale(at.question);
    if (!Number.isInteger(a.score) || a.score < min || a.score > max) {
      return { error: `score of question ${a.question_id} must be a whole number from ${min} to ${max}`, index };
    }
    if (a.follow_up != null && a.follow_up !== '') {
      if (!at.question.follow_up) return { error: `question ${a.question_id} asks for no follow-up text`, index };
      // Code points, as every limit of libs/templates counts.
      if ([...a.follow_up].length > LIMITS.feedbackFreeForm) {
        return { error: `follow_up of question ${a.question_id} must be at most ${LIMITS.feedbackFreeForm} characters`, index };
      }
    }
    given.set(a.question_id, a);
  }
  const missing = [...located.keys()].find((id) => !given.has(id));
  if (missing !== undefined) return { error: `question ${missing} must be answered` };
  return {
    item: {
      feedback_screens: template.feedback_screens.map((s, screen_id) => ({
        screen_id,
        questions: Object.fromEntries(
          s.questions.map((q) => {
            const a = given.get(q.id)!;
            const followUp = a.follow_up ? { follow_up: { type: 'free_form' as const, payload: a.follow_up } } : {};
            return [q.id, { type: q.type, payload: String(a.score), ...followUp }];
          }),
        ),
      })),
    },
  };
}
