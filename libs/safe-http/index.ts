/**
 * SSRF-safe outgoing HTTP for Switchboard, on undici: address policy, registration-time URL checks, and a
 * client that checks every connection at connect time. Plain TypeScript, no Nest. See README.md.
 */
export {
  AddressPolicy,
  classifyAddress,
  embeddedIpv4,
  parseIpv6,
  type AddressPolicyOptions,
  type AddressVerdict,
  type BlockedRange,
  type Ipv4Embedding,
} from './address-policy';
export { parseConnectTo, type ConnectToRule } from './connect-to';
export { classifyError, SafeHttpError, type SafeHttpErrorCode, type UrlRefusalReason } from './errors';
export { createSafeConnector, type ConnectTarget, type SafeConnectorOptions } from './safe-connector';
export {
  SafeHttpClient,
  type SafeHttpClientOptions,
  type SafeHttpRequest,
  type SafeHttpResponse,
  type SafeHttpStreamResponse,
} from './safe-http-client';
export {
  assertSafeUrl,
  systemLookup,
  type LookupAddress,
  type LookupFunction,
  type SafeUrlPolicy,
  type SafeUrlResult,
  type UrlRefusal,
} from './url-policy';
