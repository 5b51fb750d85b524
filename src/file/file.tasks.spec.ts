import { validatePayload } from '../common/field-errors';
import { FileTaskArgs } from './file.tasks';

const FILE_ID = '3f1c2b8e-9d4a-4c1e-8f2a-1b2c3d4e5f60';
const fields = (args: unknown) => validatePayload(FileTaskArgs, args).errors.map((e) => e.field);

describe('tasks.file.process_file and tasks.file.analyze_file payload', () => {
  it('names the file by its id', () => {
    expect(validatePayload(FileTaskArgs, { fileId: FILE_ID })).toMatchObject({
      value: { fileId: FILE_ID },
      errors: [],
    });
  });

  it.each([undefined, null, {}, { fileId: 'report.pdf' }, { fileId: 42 }])('refuses %p, naming args.fileId', (args) => {
    expect(fields(args)).toEqual(['args.fileId']);
  });

  it('refuses arguments that are not an object', () => {
    expect(validatePayload(FileTaskArgs, [FILE_ID]).errors).toEqual([
      { field: 'args', rule: 'isObject', message: 'args must be an object' },
    ]);
  });

  it('refuses fields it does not know (an old caller passing a path must hear about it)', () => {
    expect(fields({ fileId: FILE_ID, path: '/tmp/report.pdf' })).toEqual(['args.path']);
  });
});
