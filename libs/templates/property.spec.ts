import fc from 'fast-check';
import { str, validProfiles, validRequests } from './fixtures';
import {
  GraphValidationError,
  MESSENGER_PROFILE_JSON_PARAMS,
  parseGraphParams,
  validateMessageContent,
  validateMessengerProfile,
  validateMessengerProfileDelete,
  validateSendRequest,
  ValidationResult,
} from './index';

// [name, function, whether an ok value must be JSON]: parseGraphParams passes what it does not parse through.
const validators: [string, (v: unknown) => ValidationResult<unknown>, boolean][] = [
  ['validateSendRequest', validateSendRequest, true],
  ['validateMessageContent', (v) => validateMessageContent(v), true],
  ['validateMessengerProfile', (v) => validateMessengerProfile(v), true],
  [
    'validateMessengerProfile (get_started stored)',
    (v) => validateMessengerProfile(v, { getStartedExists: true }),
    true,
  ],
  ['validateMessengerProfileDelete', validateMessengerProfileDelete, true],
  ['parseGraphParams', (v) => parseGraphParams(v, MESSENGER_PROFILE_JSON_PARAMS), false],
];

function expectWellFormed(result: ValidationResult<unknown>, json = true) {
  if (result.ok) {
    if (json) expect(() => JSON.stringify(result.value)).not.toThrow();
    return;
  }
  const error: GraphValidationError = result.error;
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param']);
  expect(error.code).toBe(100);
  expect(error.param.length).toBeGreaterThan(0);
  expect(error.message.startsWith(`param ${error.param} `)).toBe(true);
  expect(error.message.length).toBeGreaterThan(`param ${error.param} `.length);
}

// Replaces (or deletes) one node of a valid body, so the mutations reach deep into templates.
const DELETE = Symbol('delete');
type Node = unknown;
function paths(v: Node, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (typeof v === 'object' && v !== null)
    for (const k of Object.keys(v)) out.push(...paths((v as Record<string, Node>)[k], [...at, k]));
  return out;
}
function replaceAt(v: Node, at: (string | number)[], by: unknown): Node {
  if (at.length === 0) return by === DELETE ? undefined : by;
  const copy: any = Array.isArray(v) ? [...v] : { ...(v as object) };
  const [head, ...rest] = at;
  const next = replaceAt(copy[head], rest, by);
  if (next === undefined && Array.isArray(copy)) copy.splice(head as number, 1);
  else if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

const edgeValues = fc.oneof(
  fc.jsonValue(),
  fc.constant(DELETE),
  fc.constantFrom(
    '',
    str(21),
    str(81),
    str(161),
    str(641),
    str(1001),
    str(2000),
    'https://example.com',
    '+15105551234',
    'default',
    'MESSAGE_TAG',
  ),
  fc.constantFrom(0, -1, 1e21, 2 ** 53 + 2, true, 'true', [], {}, [[]], null),
);

const mutated = (bodies: object[]) =>
  fc.tuple(fc.constantFrom(...bodies), fc.nat(), edgeValues).map(([body, pick, by]) => {
    const all = paths(body);
    return replaceAt(body, all[pick % all.length], by);
  });

describe('property: validators never throw', () => {
  it.each(validators)('%s on random JSON returns ok or a well-formed code 100 error', (_, validate) =>
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => expectWellFormed(validate(v))),
      { numRuns: 300 },
    ),
  );

  it.each(validators)('%s on random JS values (dates, maps, null prototypes, bigints…)', (_, validate, json) =>
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (v) => expectWellFormed(validate(v), json),
      ),
      { numRuns: 200 },
    ),
  );

  it('validateSendRequest on mutations of valid bodies', () =>
    fc.assert(
      fc.property(mutated(validRequests()), (v) => expectWellFormed(validateSendRequest(v))),
      { numRuns: 1500 },
    ));

  it('validateMessengerProfile on mutations of valid bodies', () =>
    fc.assert(
      fc.property(mutated(validProfiles()), fc.boolean(), (v, getStartedExists) =>
        expectWellFormed(validateMessengerProfile(v, { getStartedExists })),
      ),
      { numRuns: 800 },
    ));
});

describe('property: normalization is stable', () => {
  it('a normalized Send API body validates to itself', () =>
    fc.assert(
      fc.property(mutated(validRequests()), (v) => {
        const first = validateSendRequest(v);
        if (!first.ok) return;
        expect(validateSendRequest(first.value)).toEqual(first);
      }),
      { numRuns: 1000 },
    ));

  it('a normalized Messenger Profile body validates to itself', () =>
    fc.assert(
      fc.property(mutated(validProfiles()), (v) => {
        const first = validateMessengerProfile(v, { getStartedExists: true });
        if (!first.ok) return;
        expect(validateMessengerProfile(first.value, { getStartedExists: true })).toEqual(first);
      }),
      { numRuns: 500 },
    ));

  it('the same body always gives the same answer', () =>
    fc.assert(
      fc.property(mutated(validRequests()), (v) => {
        expect(validateSendRequest(v)).toEqual(validateSendRequest(v));
      }),
      { numRuns: 300 },
    ));
});
