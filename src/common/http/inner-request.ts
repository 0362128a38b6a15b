import { AsyncLocalStorage } from 'node:async_hooks';

// A request this process makes to itself (a Graph batch's operations, run through fastify.inject) carries the
// outer request's origin here, so URLs in its answer point where the caller reached us, not at inject's
// `localhost:80`; and its presence marks the request as inner, so a batch can't run a batch.
export const innerRequest = new AsyncLocalStorage<{ origin: string }>();
