import { confinedPathProblem } from './confined-path';

describe('confinedPathProblem', () => {
  it.each(['incoming', 'incoming/2026-12', 'a/b/c', '.', 'dir..name', '..hidden'])('accepts %j', (path) => {
    expect(confinedPathProblem(path)).toBeNull();
  });

  it.each([
    ['..', 'must not contain ".." segments'],
    ['a/../../etc', 'must not contain ".." segments'],
    ['a\\..\\..\\etc', 'must not contain ".." segments'],
    ['/etc', 'must be relative to IMPORT_ROOT, not an absolute path'],
    ['C:\\Windows', 'must be relative to IMPORT_ROOT, not an absolute path'],
    ['a\0b', 'must not contain a NUL character'],
  ])('refuses %j', (path, problem) => {
    expect(confinedPathProblem(path)).toBe(problem);
  });
});
