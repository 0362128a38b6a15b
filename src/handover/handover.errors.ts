import { HttpStatus } from '@nestjs/common';
import { GraphException } from '../common/errors/graph.exception';

export const HandoverErrors = {
  invalid: (message: string) => new GraphException(`(#100) ${message}`, 100, HttpStatus.BAD_REQUEST),
  notSetUp: () =>
    new GraphException(
      '(#100) The handover protocol is not set up on this Page: its admins give one connected app the primary role (PUT /pages/{id}/apps/{app_id}/handover-role)',
      100,
      HttpStatus.BAD_REQUEST,
    ),
  noRole: () => new GraphException('(#10) This app has no handover role on this Page', 10, HttpStatus.FORBIDDEN),
  primaryOnly: () => new GraphException('(#10) Only the primary receiver can take thread control', 10, HttpStatus.FORBIDDEN),
  // Messenger's subcode for acting on a thread another app controls.
  notController: () =>
    new GraphException('(#10) This app does not control this thread', 10, HttpStatus.BAD_REQUEST, 'OAuthException', 2018300),
  alreadyController: () => new GraphException('(#100) This app already controls this thread', 100, HttpStatus.BAD_REQUEST),
  badTarget: (appId: string) =>
    new GraphException(
      `(#100) param target_app_id ${appId.slice(0, 20)} is not an app with a handover role on this Page (or the Page Inbox, 263902037430900)`,
      100,
      HttpStatus.BAD_REQUEST,
    ),
};
