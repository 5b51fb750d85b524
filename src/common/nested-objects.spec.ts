import { getMetadataStorage, ValidationTypes } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

// Every class a request body, query or task payload is validated against lives in a `*.dto.ts`
// or `*.tasks.ts` file (a request DTO named otherwise would be skipped here without a word).
const VALIDATED_CLASS_FILES = /\.(tasks|dto)\.ts$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return VALIDATED_CLASS_FILES.test(path) && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('nested DTOs', () => {
  const files = sourceFiles(join(__dirname, '..'));
  for (const file of files) require(file);
  const byTarget = (getMetadataStorage() as unknown as { validationMetadatas: Map<unknown, ValidationMetadata[]> })
    .validationMetadatas;

  it('loads the validated classes of every domain', () => {
    expect(files.map((f) => relative(join(__dirname, '..'), f))).toEqual(
      expect.arrayContaining([
        'tasks/http/dto/submit-task.dto.ts',
        'tasks/http/dto/list-tasks-query.dto.ts',
        'credits/dto/credit-requests.dto.ts',
        'email/email.tasks.ts',
        'email/dto/recipients-query.dto.ts',
        'file/dto/file-queries.dto.ts',
        'stats/dto/stats-queries.dto.ts',
        'ops/dto/stats-query.dto.ts',
      ]),
    );
  });

  // class-validator's @ValidateNested accepts an array where an object is expected (it validates
  // the elements instead, recursively), so `[]` or `[[[]]]` would reach the code after validation.
  it('pairs every @ValidateNested with an @IsObject of the same each-ness', () => {
    const unguarded: string[] = [];
    let checked = 0;
    for (const [target, metadatas] of byTarget) {
      for (const nested of metadatas.filter((m) => m.type === ValidationTypes.NESTED_VALIDATION)) {
        const guarded = metadatas.some(
          (m) => m.name === 'isObject' && m.propertyName === nested.propertyName && !!m.each === !!nested.each,
        );
        checked++;
        if (!guarded) unguarded.push(`${(target as { name: string }).name}.${nested.propertyName}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    expect(unguarded).toEqual([]);
  });
});
