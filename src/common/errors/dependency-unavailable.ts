// A dependency (Redis) did not answer in time: nothing was done, and the caller may retry after
// `retryAfterSeconds`. Answered 503 with Retry-After (Graph error code 2). Nest-free, so ports can throw it.
export class DependencyUnavailableError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}
