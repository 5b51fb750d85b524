import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Readable } from 'node:stream';
import { In, Repository } from 'typeorm';
import { StoredFile } from './entities/stored-file.entity';
import { FILE_STORAGE, FileStorage } from './storage/file-storage';

/** What another domain may know of a file it sends on: name, type, size. */
export interface AttachableFile {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  storageKey: string;
}

/**
 * The File domain's door for other domains that send a caller's files on (e-mail attachments by
 * file id): ownership is checked here, and content is streamed from storage, never buffered.
 */
@Injectable()
export class FileAttachments {
  constructor(
    @InjectRepository(StoredFile) private readonly files: Repository<StoredFile>,
    @Inject(FILE_STORAGE) private readonly storage: FileStorage,
  ) {}

  /** The files of `owner` (null = the service: any owner) by id; `missing` lists ids that do not exist or are someone else's. */
  async lookup(
    ids: string[],
    owner: string | null,
  ): Promise<{ found: Map<string, AttachableFile>; missing: string[] }> {
    const rows = ids.length > 0 ? await this.files.findBy({ id: In([...new Set(ids)]) }) : [];
    const found = new Map(
      rows
        .filter((f) => owner === null || f.owner === owner)
        .map((f) => [
          f.id,
          { id: f.id, name: f.originalName, mimeType: f.mimeType, size: f.size, storageKey: f.storageKey },
        ]),
    );
    return { found, missing: ids.filter((id) => !found.has(id)) };
  }

  open(file: AttachableFile): Promise<Readable> {
    return this.storage.open(file.storageKey);
  }
}
