import { IsUUID } from 'class-validator';
import { defineTask } from '../tasks/task-definition';
import { QueueName } from '../tasks/queue-names';

export class FileTaskArgs {
  @IsUUID()
  fileId: string;
}

/** Extracts the text of an uploaded file, chunks and embeds it, and replaces the file's vector index rows. */
export const ProcessFileTask = defineTask({
  name: 'tasks.file.process_file',
  queue: QueueName.FILE,
  description: 'Extracts text of an uploaded file, chunks and embeds it, and writes its vector index',
  payload: FileTaskArgs,
  retry: { attempts: 3, backoffMs: 2000 },
  timeoutMs: 30 * 60_000,
});

/** Analyses file content: type, encoding, counts, language, keywords and structure. */
export const AnalyzeFileTask = defineTask({
  name: 'tasks.file.analyze_file',
  queue: QueueName.FILE,
  description: 'Analyses file content: type, encoding, counts, language, keywords, structure',
  payload: FileTaskArgs,
  retry: { attempts: 3, backoffMs: 2000 },
  timeoutMs: 10 * 60_000,
});
