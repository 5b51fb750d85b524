import { IsInt, IsOptional, IsString, MaxLength, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './validation-metadata-cache';

class Base {
  @IsString()
  name!: string;
}

class Child extends Base {
  @IsInt()
  count!: number;
}

const messages = (object: object, groups?: string[]) =>
  validateSync(object, { groups, forbidUnknownValues: false }).flatMap((e) => Object.keys(e.constraints ?? {}));

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  it('validates as before, inherited rules included, and again the same way', () => {
    const bad = Object.assign(new Child(), { name: 3, count: 'x' });
    expect(messages(bad).sort()).toEqual(['isInt', 'isString']);
    expect(messages(bad).sort()).toEqual(['isInt', 'isString']);
    expect(messages(Object.assign(new Child(), { name: 'a', count: 1 }))).toEqual([]);
  });

  it('sees rules of a class defined after the cache was filled', () => {
    expect(messages(Object.assign(new Child(), { name: 'a', count: 1 }))).toEqual([]);
    class Later {
      @IsOptional()
      @MaxLength(2)
      code?: string;
    }
    expect(messages(Object.assign(new Later(), { code: 'abc' }))).toEqual(['maxLength']);
  });

  it('forgets a class’s rules when a parent gains one after the first lookup', () => {
    class Parent {
      @IsString()
      name!: string;
    }
    class Kid extends Parent {}
    const kid = Object.assign(new Kid(), { name: 'a', extra: 'x' });
    expect(messages(kid)).toEqual([]);
    IsInt()(Parent.prototype, 'extra');
    expect(messages(kid)).toEqual(['isInt']);
  });

  it('keeps lookups with different groups apart', () => {
    class Grouped {
      @IsInt({ groups: ['strict'] })
      value!: unknown;
    }
    const object = Object.assign(new Grouped(), { value: 'x' });
    expect(messages(object, ['strict'])).toEqual(['isInt']);
    expect(messages(object, ['other'])).toEqual([]);
  });
});
