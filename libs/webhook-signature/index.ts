/**
 * Webhook signatures for Switchboard: the Messenger Platform's `X-Hub-Signature-256` and Standard Webhooks v1.
 * Plain TypeScript over `node:crypto`, usable by bot developers without the platform. See README.md.
 */
export type { HeaderValue, SignableBody } from './body';
export { signMessenger, verifyMessenger, type MessengerSignatureHeaders } from './messenger';
export { escapeNonAscii, toMessengerJson } from './messenger-json';
export {
  generateStandardSecret,
  signStandard,
  standardSecretKey,
  verifyStandard,
  WebhookVerificationError,
  type SignStandardInput,
  type StandardHeadersInput,
  type StandardSignatureHeaders,
  type StandardVerificationReason,
  type VerifiedStandardMessage,
  type VerifyStandardInput,
} from './standard';
