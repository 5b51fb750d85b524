import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateFiles1764300001000 implements MigrationInterface {
  name = 'CreateFiles1764300001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE files (
        id uuid PRIMARY KEY,
        owner uuid NOT NULL,
        original_name varchar(255) NOT NULL,
        size bigint NOT NULL,
        sha256 char(64) NOT NULL,
        mime_type varchar(100) NOT NULL,
        encoding varchar(20),
        storage_key varchar(300) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('UPLOADED', 'PROCESSING', 'INDEXED', 'FAILED')),
        chunk_count int NOT NULL DEFAULT 0,
        embedding_model varchar(200),
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        indexed_at timestamptz
      )`);
    await q.query(`CREATE INDEX files_owner_created ON files (owner, created_at DESC, id DESC)`);
    // Chunks are keyed by (file, ordinal): a re-process replaces them in one transaction and
    // the key makes a duplicate set impossible. Embeddings are float32 little-endian bytes.
    await q.query(`
      CREATE TABLE file_chunks (
        file_id uuid NOT NULL REFERENCES files (id) ON DELETE CASCADE,
        ordinal int NOT NULL,
        owner uuid NOT NULL,
        text text NOT NULL,
        token_count int NOT NULL,
        embedding bytea NOT NULL,
        PRIMARY KEY (file_id, ordinal)
      )`);
    await q.query(`CREATE INDEX file_chunks_owner ON file_chunks (owner)`);
    await q.query(`
      CREATE TABLE file_analyses (
        file_id uuid PRIMARY KEY REFERENCES files (id) ON DELETE CASCADE,
        task_id uuid,
        result jsonb NOT NULL,
        analysed_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Bumped in the transaction of every chunk write or delete: search processes compare it to
    // the version of their in-memory index, so a cache never serves another process's stale rows.
    await q.query(`CREATE TABLE file_index_versions (owner uuid PRIMARY KEY, version bigint NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE file_index_versions`);
    await q.query(`DROP TABLE file_analyses`);
    await q.query(`DROP TABLE file_chunks`);
    await q.query(`DROP TABLE files`);
  }
}
