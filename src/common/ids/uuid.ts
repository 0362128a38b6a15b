// A UUID in its canonical text form (8-4-4-4-12 hex digits, either case). Input checked with it can be bound as
// `$n::uuid`: anything looser can reach Postgres's cast and fail there (22P02), a 500 instead of the caller's 4xx.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (s: string): boolean => UUID.test(s);
