import { isUuid } from './uuid';
import { uuidV7 } from './uuid-v7';

describe('isUuid', () => {
  it('takes the canonical 8-4-4-4-12 form, either case', () => {
    expect(isUuid(uuidV7())).toBe(true);
    expect(isUuid('0189F7E2-1A2B-7C3D-8E4F-0123456789AB')).toBe(true);
  });

  it.each([
    '-'.repeat(36),
    'a'.repeat(36),
    '0189f7e21a2b7c3d8e4f0123456789ab',
    '{0189f7e2-1a2b-7c3d-8e4f-0123456789ab}',
    '0189f7e2-1a2b-7c3d-8e4f-0123456789ag',
    '0189f7e2-1a2b-7c3d-8e4f-0123456789ab\n',
    '',
  ])('refuses %j', (s) => {
    expect(isUuid(s)).toBe(false);
  });
});
