import { badRequest, conflict, forbidden } from '../common/errors/app.exception';
import { GraphErrors } from '../common/errors/graph.exception';

export const AccountLinkingErrors = {
  notOffered: () =>
    badRequest('ACCOUNT_LINKING.NOT_OFFERED', 'That message of the Page offers no Log In button with this URL'),
  // Unknown and expired read alike: a guess learns nothing.
  invalidToken: () =>
    badRequest('ACCOUNT_LINKING.INVALID_TOKEN', 'This login link is unknown or has expired: tap Log In in the conversation again'),
  notYours: () =>
    forbidden('ACCOUNT_LINKING.NOT_YOURS', 'This login was started from another account: log in here as the person who tapped Log In'),
  tokenUsed: () => conflict('ACCOUNT_LINKING.TOKEN_USED', 'This login link was already used: tap Log In in the conversation again'),
  notLinked: () => conflict('ACCOUNT_LINKING.NOT_LINKED', 'Your account is not linked with this Page'),
  // Graph (page token).
  graphInvalidToken: () =>
    GraphErrors.invalidParameter('(#100) Invalid account_linking_token: unknown, expired, or issued for another Page'),
  graphFields: () => GraphErrors.invalidParameter('(#100) With account_linking_token, fields may name only id and recipient'),
  graphPsid: () => GraphErrors.invalidParameter('(#100) param psid must be a page-scoped id'),
};
