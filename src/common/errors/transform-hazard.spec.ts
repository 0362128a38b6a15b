import { findTransformHazard } from './transform-hazard';

describe('findTransformHazard', () => {
  it('finds an own constructor key at any depth, with its path', () => {
    expect(findTransformHazard({ constructor: '1' })).toEqual({ field: 'constructor', message: 'constructor is not a known field' });
    expect(findTransformHazard({ text: 'x', extra: { constructor: '1' } })?.field).toBe('extra.constructor');
    expect(findTransformHazard({ message: { quick_replies: [{ title: 't' }, { payload: { constructor: {} } }] } })?.field).toBe(
      'message.quick_replies[1].payload.constructor',
    );
    expect(findTransformHazard([[{ constructor: null }]])?.field).toBe('[0][0].constructor');
  });

  it('passes bodies without one, including the inherited constructor of every object', () => {
    for (const v of [{}, [], 'constructor', 3, null, undefined, { text: 'constructor', a: [1, { b: {} }] }]) {
      expect(findTransformHazard(v)).toBeUndefined();
    }
  });

  it('refuses nesting past the limit, at the first level too deep, without recursing', () => {
    const nest = (levels: number) => {
      let v: unknown = 'x';
      for (let i = 0; i < levels; i++) v = { a: v };
      return v;
    };
    expect(findTransformHazard(nest(3), 3)).toBeUndefined();
    expect(findTransformHazard(nest(4), 3)).toEqual({ field: 'a.a.a', message: 'a.a.a must not be nested more than 3 levels deep' });
    let deep: unknown = 'x';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findTransformHazard({ q: deep })?.field).toBe(`q${'[0]'.repeat(31)}`);
  });
});
