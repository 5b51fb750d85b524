import { docxBomb, docxOf } from '../../../test/fuzz/hostile-files';
import { extractText } from './text-extraction';
import { checkZipLimits, DOCX_LIMITS } from './zip-limits';

describe('checkZipLimits', () => {
  it('lets a real document through', async () => {
    await expect(checkZipLimits(docxOf('hello'))).resolves.toBeUndefined();
    await expect(extractText(docxOf('hello world'), 'a.docx')).resolves.toMatchObject({ text: 'hello world\n\n' });
  });

  it('refuses an archive that expands about 1000:1', async () => {
    await expect(checkZipLimits(await docxBomb(8 * 1024 * 1024))).rejects.toThrow(/word\/document\.xml expands \d+:1/);
  });

  it('refuses an archive that expands past the total, whatever the ratio', async () => {
    const small = { ...DOCX_LIMITS, maxTotalBytes: 1024 * 1024, maxRatio: 1e9 };
    await expect(checkZipLimits(await docxBomb(2 * 1024 * 1024), small)).rejects.toThrow(/more than 1 MiB/);
  });

  it('counts the inflated bytes when the headers lie about them', async () => {
    await expect(checkZipLimits(await docxBomb(8 * 1024 * 1024, true))).rejects.toThrow(
      /word\/document\.xml inflates past the 1024 bytes it declares/,
    );
  });

  it('makes extraction of a bomb a permanent ExtractionError, before mammoth inflates it', async () => {
    await expect(extractText(await docxBomb(8 * 1024 * 1024), 'bomb.docx')).rejects.toMatchObject({
      name: 'ExtractionError',
      message: expect.stringMatching(/^The Word document \(DOCX\) is refused: /),
    });
  });
});
