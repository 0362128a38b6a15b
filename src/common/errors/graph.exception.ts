import { HttpStatus } from '@nestjs/common';

export type GraphErrorType = 'OAuthException' | 'GraphMethodException' | 'IGApiException';

// Graph's error: `{error:{message, type, code, error_subcode?, fbtrace_id}}`.
export class GraphException extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly status: HttpStatus = HttpStatus.BAD_REQUEST,
    readonly type: GraphErrorType = 'OAuthException',
    readonly subcode?: number,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

// The Graph codes we answer with, named once.
export const GraphErrors = {
  invalidParameter: (message: string) => new GraphException(message, 100, HttpStatus.BAD_REQUEST),
  unsupportedGet: (message: string) =>
    new GraphException(message, 100, HttpStatus.BAD_REQUEST, 'GraphMethodException', 33),
  invalidToken: (message = 'Invalid OAuth access token - Cannot parse access token') =>
    new GraphException(message, 190, HttpStatus.UNAUTHORIZED),
  // A PSID the Page does not know (Messenger's subcode).
  noMatchingUser: () => new GraphException('(#100) No matching user found', 100, HttpStatus.BAD_REQUEST, 'OAuthException', 2018001),
  // The person blocked messages from the Page (Meta's code, subcode and wording: the Page Messages reference's 551).
  personUnavailable: () =>
    new GraphException("(#551) This person isn't available right now.", 551, HttpStatus.BAD_REQUEST, 'OAuthException', 1545041),
  permission: (message = '(#200) Permissions error') => new GraphException(message, 200, HttpStatus.FORBIDDEN),
  webhookVerification: (message: string) => new GraphException(message, 2200, HttpStatus.BAD_REQUEST),
  invalidAppsecretProof: () =>
    new GraphException('Invalid appsecret_proof provided in the API argument', 100, HttpStatus.BAD_REQUEST, 'GraphMethodException'),
  appsecretProofRequired: () =>
    new GraphException('API calls from the server require an appsecret_proof argument', 100, HttpStatus.BAD_REQUEST, 'GraphMethodException'),
  unknown: (message = 'An unknown error occurred') => new GraphException(message, 1, HttpStatus.INTERNAL_SERVER_ERROR),
};
