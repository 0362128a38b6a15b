import { tooDeeplyNested } from './nesting-depth';

describe('tooDeeplyNested', () => {
  const nest = (levels: number) => {
    let v: unknown = 'x';
    for (let i = 0; i < levels; i++) v = { a: v };
    return v;
  };

  it('names the first level past the limit, objects and arrays alike', () => {
    expect(tooDeeplyNested(nest(3), 3)).toBeUndefined();
    expect(tooDeeplyNested(nest(4), 3)).toBe('a.a.a');
    expect(tooDeeplyNested({ ok: [1, 2], q: [[[['x']]]] }, 3)).toBe('q[0][0]');
    expect(tooDeeplyNested([[[[]]]], 3)).toBe('[0][0][0]');
  });

  it('passes scalars, shallow bodies and the default limit of 32', () => {
    for (const v of [null, undefined, 3, 'x', {}, [], { a: [1, { b: {} }] }, nest(32)]) expect(tooDeeplyNested(v)).toBeUndefined();
    expect(tooDeeplyNested(nest(33))).toBe(Array.from({ length: 32 }, () => 'a').join('.'));
  });

  it('walks a body nested far deeper than the stack without recursing', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(tooDeeplyNested({ q: deep })).toBe(`q${'[0]'.repeat(31)}`);
  });
});
