import { registerDecorator, ValidationOptions } from 'class-validator';
import { isAbsolute, win32 } from 'node:path';

/** Why a relative directory could leave its root, or null when it cannot: absolute paths and `..` segments are refused. */
export function confinedPathProblem(path: string): string | null {
  if (path.includes('\0')) return 'must not contain a NUL character';
  if (isAbsolute(path) || win32.isAbsolute(path)) return 'must be relative to IMPORT_ROOT, not an absolute path';
  if (path.split(/[\\/]/).includes('..')) return 'must not contain ".." segments';
  return null;
}

/** The property is a path relative to a root that cannot climb out of it lexically (symlinks are checked when read). */
export function IsConfinedPath(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'confinedPath',
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && confinedPathProblem(value) === null,
        defaultMessage: (args) =>
          `${propertyName} ${confinedPathProblem(String(args?.value)) ?? 'is not a valid path'}`,
      },
    });
}
