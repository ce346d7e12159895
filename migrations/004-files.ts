// 正文 and 附件 of a document: a logical file per document and every version ever uploaded.
import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('files', (t) => {
    t.uuid('id').primary()
    t.uuid('document_id').notNullable().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    /** 正文 | 附件. */
    t.text('kind').notNullable()
    /** The name of the newest version, for lists. */
    t.text('name').notNullable()
    t.text('created_by').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    /** Set when the file came along by 转笺 or 合并: the file it was copied from. */
    t.uuid('copied_from').references('files.id')
    t.index(['document_id'])
    // A copy runs at most once per target document, so a retried 转笺/合并 copies nothing twice.
    t.unique(['document_id', 'copied_from'])
  })
  // A document has at most one 正文; uploading it again adds a version.
  await knex.raw(`create unique index files_one_zhengwen on files (document_id) where kind = '正文'`)
  await knex.schema.createTable('file_versions', (t) => {
    t.uuid('id').primary()
    t.uuid('file_id').notNullable().references('files.id')
    t.integer('version').notNullable()
    t.text('name').notNullable()
    t.bigInteger('size').notNullable()
    t.text('mime_type').notNullable()
    t.text('sha256').notNullable()
    /** Relative to <dataDir>/files; content-addressed, so equal content shares one stored file. */
    t.text('storage_path').notNullable()
    t.text('uploaded_by').notNullable()
    t.timestamp('uploaded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['file_id', 'version'])
    t.index(['sha256'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('file_versions')
  await knex.schema.dropTable('files')
}
