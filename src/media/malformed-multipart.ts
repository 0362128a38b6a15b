// What busboy (under @fastify/multipart) throws for a body that is not well-formed multipart/form-data: a boundary
// missing, empty or over its 256 characters, or the body ending before its closing boundary (a client that gave
// up mid-upload). The client's fault, so a 400; anything else keeps its own meaning.
const MALFORMED = [
  /^Multipart: Boundary not found$/,
  /^Boundary required$/,
  /^The needle cannot (be an empty|have a length bigger)/,
  /unexpected end of multipart data$/i,
  // Node's, when the client hangs up mid-body.
  /^aborted$/,
];

export function malformedMultipartReason(err: unknown): string | null {
  // Only the parser's own errors: not one of ours that quotes it.
  if (!(err instanceof Error) || (err.constructor !== Error && err.constructor !== TypeError)) return null;
  const message = err.message;
  if (typeof message !== 'string') return null;
  if (!MALFORMED.some((re) => re.test(message))) return null;
  if (message === 'aborted') return 'the client closed the connection mid-upload';
  return /needle/.test(message) ? 'the boundary must be 1 to 256 characters' : message.replace(/^Multipart: /, '').toLowerCase();
}
