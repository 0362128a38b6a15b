import { HttpStatus } from '@nestjs/common';
import { badRequest, conflict } from '../common/errors/app.exception';
import { GraphErrors, GraphException } from '../common/errors/graph.exception';

export const MarketingMessagesErrors = {
  notAnOptinRequest: () =>
    badRequest(
      'THREAD.NOT_AN_OPTIN_REQUEST',
      "Only the Page's marketing messages opt-in request (template notification_messages) can be opted in to or stopped",
    ),
  notOptedIn: () => conflict('NOTIFICATION_MESSAGES.NOT_OPTED_IN', 'You are not getting these messages: opt in first'),
  // Graph (Send API with recipient.notification_messages_token). Unknown and another Page's read alike, as an
  // unknown PSID does: a token says nothing about another Page's people.
  unknownToken: () => GraphErrors.noMatchingUser(),
  expiredToken: () =>
    new GraphException('(#100) This notification_messages_token has expired: the person must opt in again', 100, HttpStatus.BAD_REQUEST),
  stoppedToken: () =>
    new GraphException(
      '(#100) The person stopped marketing messages on this topic (STOP_NOTIFICATIONS): nothing is sent until they resume',
      100,
      HttpStatus.BAD_REQUEST,
    ),
  // Meta's wording and codes (Messenger's common error codes, Marketing Messages).
  tooSoon: () =>
    new GraphException(
      '(#4) Marketing Messages - There has to be a minimum delay between 2 notifications for the given notification',
      4,
      HttpStatus.BAD_REQUEST,
      'OAuthException',
      2018354,
    ),
  tokenListLimit: () => GraphErrors.invalidParameter('(#100) param limit must be an integer from 1 to 1000'),
  tokenListCursor: () => GraphErrors.invalidParameter('(#100) param after must be a cursor this endpoint returned'),
};
