import { HttpStatus } from '@nestjs/common';
import { AppException, badRequest, conflict, notFound } from '../common/errors/app.exception';

export const MessagingErrors = {
  threadNotFound: (id: string) => notFound('THREAD.NOT_FOUND', `No thread ${id}`),
  unknownMids: (mids: string[]) =>
    badRequest('THREAD.UNKNOWN_MIDS', `Not messages of this thread from the page: ${mids.slice(0, 5).join(', ')}`),
  emptyMessage: () => badRequest('THREAD.EMPTY_MESSAGE', 'Give text or attachments'),
  sendingTooFast: (retryAfterMs: number) =>
    new AppException(HttpStatus.TOO_MANY_REQUESTS, 'THREAD.RATE_LIMITED', 'Too many messages: slow down', undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    }),
  deliveryNeedsWatermark: () => badRequest('THREAD.DELIVERY_EMPTY', 'Give a watermark or mids'),
  postbackNotOffered: () =>
    badRequest(
      'THREAD.POSTBACK_NOT_OFFERED',
      "No button of this Page offers this title and payload: a postback comes from a button in the thread, the Page's menu, Get Started or an ice breaker",
    ),
  replyToNotFound: (mid: string) => badRequest('THREAD.REPLY_TO_NOT_FOUND', `reply_to: no message ${mid.slice(0, 80)} in this thread`),
  messageNotFound: (mid: string) => notFound('THREAD.MESSAGE_NOT_FOUND', `No message ${mid.slice(0, 80)} in this thread`),
  notEditable: () =>
    badRequest('THREAD.NOT_EDITABLE', "Only your own messages' text can be edited (not a postback or a quick reply's answer)"),
  editLimit: (max: number) => conflict('THREAD.EDIT_LIMIT', `A message can be edited at most ${max} times`),
  editWindowClosed: (minutes: number) =>
    conflict('THREAD.EDIT_WINDOW_CLOSED', `A message can be edited for ${minutes} minutes after it was sent`),
  notThreadController: () => conflict('THREAD.NOT_CONTROLLER', 'Another app controls this thread (handover protocol)'),
  notACoupon: () => badRequest('THREAD.NOT_A_COUPON', 'Only a coupon the Page sent with a coupon_code has a code to reveal'),
  notAFeedbackRequest: () =>
    badRequest('THREAD.NOT_A_FEEDBACK_REQUEST', 'Only a customer feedback template the Page sent takes an answer'),
  feedbackExpired: () => conflict('THREAD.FEEDBACK_EXPIRED', 'This feedback request has expired (its expires_in_days have passed)'),
  feedbackGiven: () => conflict('THREAD.FEEDBACK_ALREADY_GIVEN', 'This feedback request was already answered, with other answers'),
  feedbackInvalid: (message: string, index?: number) =>
    badRequest('THREAD.FEEDBACK_INVALID', message, index === undefined ? undefined : [{ field: `answers[${index}]`, rule: 'feedback', message }]),
  responseFeedbackNotOffered: () =>
    badRequest(
      'THREAD.RESPONSE_FEEDBACK_NOT_OFFERED',
      "Only a message of an app the Page subscribes to response_feedback takes a thumbs up or down (not the person's own, nor the Page's people's)",
    ),
  // The person blocked messages from the Page: their own writes wait until they unblock (as Messenger's composer does).
  threadBlocked: () => conflict('THREAD.BLOCKED', 'You blocked messages from this Page: unblock to write'),
  // The Page's side, refused because the person blocked it: the Send API answers Graph's 551 / 1545041, the Page
  // Inbox this.
  pageBlocked: () => conflict('THREAD.BLOCKED', "This person isn't available right now: they are not receiving messages from this Page"),
  quickReplyNotOffered: () =>
    badRequest('THREAD.QUICK_REPLY_NOT_OFFERED', "The Page's latest message offers no such quick reply"),
};

export const RealtimeErrors = {
  tooManyPolls: (max: number) =>
    new AppException(HttpStatus.TOO_MANY_REQUESTS, 'REALTIME.TOO_MANY_POLLS', `At most ${max} waiting GET /events per person: end one first`),
};
