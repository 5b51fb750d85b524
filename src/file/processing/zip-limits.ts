import { Readable } from 'node:stream';
import * as yauzl from 'yauzl';

/** What an archive may expand to before any parser (mammoth's JSZip) inflates it into memory. */
export interface ZipLimits {
  maxEntries: number;
  /** Sum of the uncompressed sizes of all entries. */
  maxTotalBytes: number;
  /** Uncompressed ÷ compressed, for entries above `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

// A real DOCX is a few hundred entries and tens of MB of XML; its XML compresses about 5-20:1.
// Zeros or one repeated character compress 1000:1, which is what a decompression bomb is made of.
export const DOCX_LIMITS: ZipLimits = {
  maxEntries: 5000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxRatio: 200,
  ratioFloorBytes: 1024 * 1024,
};

/**
 * Resolves when the archive stays within `limits`, else rejects with a message naming the
 * limit. Declared sizes are checked first (cheap, catches an honest bomb); then every entry is
 * inflated as a stream and counted, because the sizes in a ZIP are only claims: yauzl fails an
 * entry that inflates past its declared size, and the running total is capped too.
 */
export async function checkZipLimits(bytes: Buffer, limits: ZipLimits = DOCX_LIMITS): Promise<void> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, validateEntrySizes: true });
  try {
    let entries = 0;
    let declared = 0;
    let inflated = 0;
    for (let entry = await nextEntry(zip); entry; entry = await nextEntry(zip)) {
      if (++entries > limits.maxEntries) throw new Error(`it has more than ${limits.maxEntries} entries`);
      declared += entry.uncompressedSize;
      if (declared > limits.maxTotalBytes) throw new Error(`it expands to more than ${mib(limits.maxTotalBytes)}`);
      const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
      if (entry.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio) {
        throw new Error(`${entry.fileName} expands ${Math.round(ratio)}:1 (more than ${limits.maxRatio}:1)`);
      }
      if (entry.fileName.endsWith('/')) continue;
      const stream: Readable = await zip.openReadStreamPromise(entry);
      try {
        for await (const chunk of stream) {
          inflated += (chunk as Buffer).length;
          if (inflated > limits.maxTotalBytes) throw new Error(`it expands to more than ${mib(limits.maxTotalBytes)}`);
        }
      } catch (error) {
        stream.destroy();
        // yauzl: "too many bytes in the stream. expected N. got at least M".
        if (/too many bytes/.test(error.message))
          throw new Error(`${entry.fileName} inflates past the ${entry.uncompressedSize} bytes it declares`, {
            cause: error,
          });
        throw error;
      }
    }
  } finally {
    zip.close();
  }
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => zip.off('entry', onEntry).off('end', onEnd).off('error', onError);
    const onEntry = (entry: yauzl.Entry) => (cleanup(), resolve(entry));
    const onEnd = () => (cleanup(), resolve(undefined));
    const onError = (error: Error) => (cleanup(), reject(error));
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MiB`;
}
