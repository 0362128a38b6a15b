import { HttpStatus } from '@nestjs/common';
import { GraphException } from '../common/errors/graph.exception';

export const SendApiErrors = {
  // Graph's answer for a PSID the Page does not know.
  noMatchingUser: () =>
    new GraphException('(#100) No matching user found', 100, HttpStatus.BAD_REQUEST, 'OAuthException', 2018001),
  invalid: (message: string) => new GraphException(`(#100) ${message}`, 100, HttpStatus.BAD_REQUEST),
};
