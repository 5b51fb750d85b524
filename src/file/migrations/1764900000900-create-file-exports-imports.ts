import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFileExportsImports1764900000900 implements MigrationInterface {
  name = 'CreateFileExportsImports1764900000900';

  async up(q: QueryRunner): Promise<void> {
    // An export is the result of its task: it goes with the task record (retention), like the
    // other domains' result records. Its bytes are not in the database, so a trigger writes the
    // storage key of every deleted export into file_storage_garbage in the same transaction as
    // the delete, and the file domain's sweeper removes those bytes afterwards. The tasks domain
    // needs to know nothing about storage, and a crash between the delete and the removal
    // loses nothing: the key is still listed until its bytes are gone.
    await q.query(`
      CREATE TABLE file_exports (
        id uuid PRIMARY KEY REFERENCES task_runs (id) ON DELETE CASCADE,
        owner uuid NOT NULL,
        name varchar(255) NOT NULL,
        storage_key varchar(300) NOT NULL,
        entries int NOT NULL,
        size bigint NOT NULL,
        sha256 char(64) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE file_storage_garbage (
        storage_key varchar(300) PRIMARY KEY,
        deleted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE FUNCTION file_exports_collect_garbage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO file_storage_garbage (storage_key) VALUES (OLD.storage_key) ON CONFLICT DO NOTHING;
        RETURN OLD;
      END $$`);
    await q.query(`
      CREATE TRIGGER file_exports_garbage AFTER DELETE ON file_exports
      FOR EACH ROW EXECUTE FUNCTION file_exports_collect_garbage()`);
    // Imports: one row per (owner, source path, content), pointing at the file it created. The
    // file's deletion frees the path for a new import.
    await q.query(`
      CREATE TABLE file_imports (
        owner uuid NOT NULL,
        source_path text NOT NULL,
        sha256 char(64) NOT NULL,
        file_id uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        task_id uuid NOT NULL,
        PRIMARY KEY (owner, source_path, sha256)
      )`);
    await q.query(`CREATE INDEX file_imports_file ON file_imports (file_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE file_imports`);
    await q.query(`DROP TRIGGER file_exports_garbage ON file_exports`);
    await q.query(`DROP FUNCTION file_exports_collect_garbage()`);
    await q.query(`DROP TABLE file_storage_garbage`);
    await q.query(`DROP TABLE file_exports`);
  }
}
