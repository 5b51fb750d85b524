import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import yauzl from 'yauzl';
import { ApiClient } from './support/api-client';

export interface ZipEntryRead {
  name: string;
  flags: number;
  method: number;
  data: Buffer;
}

/** Uploads bytes as a multipart file; expects 201 and returns the file record. */
export async function uploadBytes(client: ApiClient, name: string, bytes: Buffer, process = false) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${client.baseUrl}/files?process=${process}`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${client.apiKey}` },
  });
  const body = (await response.json()) as any;
  if (response.status !== 201) throw new Error(`Upload of ${name} gave ${response.status}: ${JSON.stringify(body)}`);
  return body.file as { id: string; name: string; size: number; sha256: string };
}

export async function download(client: ApiClient, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${client.baseUrl}${path}`, {
    headers: { authorization: `Bearer ${client.apiKey}`, ...headers },
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** Every entry of a ZIP, read with yauzl (a maintained reader that checks CRCs and rejects bad names). */
export function readZip(zip: Buffer): Promise<ZipEntryRead[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true }, (error, archive) => {
      if (error || !archive) return reject(error);
      const entries: ZipEntryRead[] = [];
      archive.on('error', reject);
      archive.on('end', () => resolve(entries));
      archive.on('entry', (entry: yauzl.Entry) => {
        archive.openReadStream(entry, (openError, stream) => {
          if (openError || !stream) return reject(openError);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({
              name: entry.fileName,
              flags: entry.generalPurposeBitFlag,
              method: entry.compressionMethod,
              data: Buffer.concat(chunks),
            });
            archive.readEntry();
          });
        });
      });
      archive.readEntry();
    });
  });
}

/** `unzip -t` (Info-ZIP) on the archive: its exit status and output. */
export async function unzipTest(zip: Buffer): Promise<{ status: number | null; output: string }> {
  const path = join(tmpdir(), `export-${randomBytes(4).toString('hex')}.zip`);
  await writeFile(path, zip);
  const run = spawnSync('unzip', ['-t', path], { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
