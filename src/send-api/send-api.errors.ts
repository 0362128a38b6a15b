import { HttpStatus } from '@nestjs/common';
import { MEDIA_TEMPLATE_URL_SUBCODE } from '../../libs/templates';
import { GraphErrors, GraphException } from '../common/errors/graph.exception';

export const SendApiErrors = {
  invalid: (message: string, subcode?: number) =>
    new GraphException(`(#100) ${message}`, 100, HttpStatus.BAD_REQUEST, 'OAuthException', subcode),
  // reply_to must name a message of the same conversation (any sender), as on Messenger.
  unknownReplyTo: (param: string) =>
    new GraphException(`(#100) param ${param} must be the mid of a message in this conversation`, 100, HttpStatus.BAD_REQUEST),
  // react / unreact name a message of the same conversation, as reply_to does.
  unknownReactionTarget: () =>
    new GraphException('(#100) param payload[message_id] must be the mid of a message in this conversation', 100, HttpStatus.BAD_REQUEST),
  // A media template URL that parses as ours but is forged, or another Page's media (the same answer for both).
  notOurMedia: (param: string, why: string) =>
    new GraphException(`(#100) param ${param} ${why}`, 100, HttpStatus.BAD_REQUEST, 'OAuthException', MEDIA_TEMPLATE_URL_SUBCODE),
  outsideWindow: () =>
    new GraphException('(#10) This message is sent outside of allowed window.', 10, HttpStatus.BAD_REQUEST, 'OAuthException', 2018278),
  // Handover protocol: another app (or the Page Inbox) controls the thread.
  notThreadController: () =>
    new GraphException('(#10) This app does not control this thread: another app or the Page Inbox has it', 10, HttpStatus.BAD_REQUEST, 'OAuthException', 2018300),
  // The person blocked messages from the Page (Meta's code, subcode and wording: the Page Messages reference's 551).
  // Nothing is sent or stored, sender actions included.
  personUnavailable: GraphErrors.personUnavailable,
  pageRateLimited: (retryAfterMs: number) =>
    new GraphException('(#613) Calls to this api have exceeded the rate limit.', 613, HttpStatus.TOO_MANY_REQUESTS, 'OAuthException', undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    }),
  appRateLimited: (retryAfterMs: number) =>
    new GraphException('(#4) Application request limit reached', 4, HttpStatus.TOO_MANY_REQUESTS, 'OAuthException', undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))),
    }),
  unknownAttachment: (id: string) =>
    new GraphException(`(#100) No attachment found for attachment_id ${id}`, 100, HttpStatus.BAD_REQUEST, 'OAuthException', 2018047),
  noProfile: () =>
    new GraphException('(#100) No profile available for this user.', 100, HttpStatus.BAD_REQUEST, 'GraphMethodException', 2018218),
  profilePermission: () =>
    new GraphException('(#100) Insufficient permission to access user profile.', 100, HttpStatus.BAD_REQUEST, 'OAuthException', 2018247),
  nonexistingField: (field: string, node: string) =>
    new GraphException(`(#100) Tried accessing nonexisting field (${field}) on node type (${node})`, 100, HttpStatus.BAD_REQUEST),
  badIdempotencyKey: () =>
    new GraphException('(#100) The Idempotency-Key header must be 1 to 255 visible ASCII characters', 100, HttpStatus.BAD_REQUEST),
};
