import { BadRequestException, PayloadTooLargeException, UnsupportedMediaTypeException } from '@nestjs/common';
import busboy from 'busboy';
import { createHash } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import { Transform, TransformCallback } from 'node:stream';
import { fieldErrorsException } from '../../common/field-errors';
import { SNIFF_BYTES } from '../processing/mime-sniffer';
import { FileStorage } from '../storage/file-storage';

export interface ReceivedUpload {
  originalName: string;
  size: number;
  sha256: string;
  /** The first {@link SNIFF_BYTES} bytes, for the MIME sniffer. */
  head: Buffer;
  fields: Record<string, string>;
}

// Room for the multipart boundaries and part headers around the file itself.
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Streams the one file part of a multipart request into storage under `key`, hashing and
 * measuring it on the way; nothing is buffered beyond the sniffing head. Over `maxBytes`
 * the write is abandoned (storage removes the partial file) and a 413 is thrown. Form fields
 * sent before the file part are returned.
 */
export async function receiveUpload(
  request: IncomingMessage,
  storage: FileStorage,
  key: string,
  maxBytes: number,
): Promise<ReceivedUpload> {
  if (!/^multipart\/form-data/i.test(request.headers['content-type'] ?? '')) {
    throw new UnsupportedMediaTypeException('Upload the file as multipart/form-data with a part named "file"');
  }
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes + MULTIPART_OVERHEAD) throw tooLarge(maxBytes);

  return new Promise<ReceivedUpload>((resolve, reject) => {
    // No prototype: a field named `__proto__` or `constructor` is just a field, never a setter.
    const fields: Record<string, string> = Object.create(null);
    let stored: Promise<ReceivedUpload> | undefined;
    let meter: UploadMeter | undefined;
    let failed = false;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      // Ends a write still in progress: storage then removes the partial file.
      meter?.destroy(error);
      request.unpipe(parser);
      // Let the client finish sending so it can read the error; the bytes go nowhere.
      request.resume();
      reject(error);
    };
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: request.headers,
        limits: { files: 1, fileSize: maxBytes, fields: 20, fieldSize: 1024, parts: 25 },
        defParamCharset: 'utf8',
      });
    } catch (error) {
      throw malformed(error);
    }
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (field, stream, info) => {
      if (field !== 'file' || stored) {
        stream.resume();
        return;
      }
      const sink = (meter = new UploadMeter());
      stream.on('limit', () => sink.destroy(tooLarge(maxBytes)));
      stream.on('error', (error: Error) => sink.destroy(error));
      stream.pipe(sink);
      stored = storage.put(key, sink).then(() => ({
        originalName: sanitiseFileName(info.filename),
        size: sink.size,
        sha256: sink.digest(),
        head: sink.head(),
        fields,
      }));
      stored.catch(fail);
    });
    parser.on('error', (error: Error) => fail(malformed(error)));
    parser.on('close', () => {
      if (failed) return;
      if (!stored)
        return fail(fieldErrorsException([{ field: 'file', rule: 'isDefined', message: 'file is required' }]));
      stored.then(resolve, fail);
    });
    request.on('aborted', () =>
      fail(
        fieldErrorsException([{ field: 'file', rule: 'complete', message: 'The upload was aborted by the client' }]),
      ),
    );
    request.pipe(parser);
  });
}

function malformed(error: Error): BadRequestException {
  return fieldErrorsException([
    { field: 'file', rule: 'multipart', message: `Malformed multipart request: ${error.message}` },
  ]);
}

function tooLarge(maxBytes: number): PayloadTooLargeException {
  return new PayloadTooLargeException(`The file is larger than the upload limit of ${maxBytes} bytes`);
}

/** Passes bytes through while counting them, hashing them and keeping the first few for sniffing. */
class UploadMeter extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');
  private readonly heads: Buffer[] = [];
  private headBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.hash.update(chunk);
    if (this.headBytes < SNIFF_BYTES) {
      const part = chunk.subarray(0, SNIFF_BYTES - this.headBytes);
      this.heads.push(Buffer.from(part));
      this.headBytes += part.length;
    }
    callback(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }

  head(): Buffer {
    return Buffer.concat(this.heads);
  }
}

/** The base name only, without control or reserved characters, at most 255 characters. */
export function sanitiseFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '')
    .replace(/^[.\s]+/, '')
    .trim();
  return [...cleaned].slice(0, 255).join('') || 'unnamed';
}
