import { IsInt, IsString, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

const failing = (o: object) =>
  validateSync(o)
    .map((e) => `${e.property}:${Object.keys(e.constraints ?? {}).join(',')}`)
    .sort();

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  class Base {
    @IsString() name: unknown;
  }
  class Child extends Base {
    @IsInt() count: unknown;
  }

  it('answers what class-validator answers, inherited rules included, call after call', () => {
    for (let i = 0; i < 3; i++) {
      expect(failing(Object.assign(new Base(), { name: 1 }))).toEqual(['name:isString']);
      expect(failing(Object.assign(new Child(), { name: 1, count: 'x' }))).toEqual(['count:isInt', 'name:isString']);
      expect(failing(Object.assign(new Child(), { name: 'a', count: 2 }))).toEqual([]);
    }
  });

  it('sees rules registered after a class was first validated', () => {
    class Late {
      @IsString() a: unknown;
      b: unknown;
    }
    expect(failing(Object.assign(new Late(), { a: 'x', b: 'y' }))).toEqual([]);
    IsInt()(Late.prototype, 'b');
    expect(failing(Object.assign(new Late(), { a: 'x', b: 'y' }))).toEqual(['b:isInt']);
  });

  it('can be installed twice', () => {
    cacheValidationMetadata();
    expect(failing(Object.assign(new Base(), { name: 1 }))).toEqual(['name:isString']);
  });
});
