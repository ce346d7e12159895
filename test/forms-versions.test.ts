// Versions of the 笺: changing a 笺 (or the shared definitions) makes a new version; a document
// keeps the version it started with and still validates and renders with it; new ones use the newest.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { AppError } from '../server/errors.ts'
import { demo } from '../server/forms/demo.ts'
import { Forms } from '../server/forms/forms.ts'
import { Jian } from '../server/forms/jian.ts'
import { ProcessModels } from '../server/services/process-models.ts'
import { scratchDatabase } from './forms-db.ts'

const root = join(import.meta.dirname, '..')
const db = await scratchDatabase()
const dir = mkdtempSync(join(tmpdir(), 'gongwen-forms-'))
t.teardown(async () => {
  rmSync(dir, { recursive: true, force: true })
  await db.close()
})
cpSync(join(root, 'forms'), dir, { recursive: true })

const versions = (forms: Forms) => Object.fromEntries(forms.list().map((f) => [f.key, f.version]))
const edit = (file: string, change: (text: string) => string) => writeFileSync(join(dir, file), change(readFileSync(join(dir, file), 'utf8')))
const data = demo['fawen-gaozhi'].data

async function startDocument(formVersion: number): Promise<string> {
  const id = randomUUID()
  await db.knex('documents').insert({ id, unit_id: 'liuzhou-gov', kind: 'fawen', title: String(data.title), status: 'running', data: JSON.stringify(data), created_by: 'zhangwei', form_version: formVersion })
  return id
}

async function rendered(forms: Forms, id: string) {
  const { form, ctx } = await new Jian(db.knex, forms, new ProcessModels(db.knex, null as never, null as never), null as never).load(id)
  return { version: form.version, html: await forms.render(form, ctx, { print: true }) }
}

function caught(fn: () => unknown): AppError {
  try {
    fn()
  } catch (err) {
    if (err instanceof AppError) return err
    throw err
  }
  throw new Error('expected an error')
}

t.test('the first start records version 1 of each 笺; a restart with the same files adds none', async (t) => {
  const forms = new Forms(dir)
  t.throws(() => forms.current('fawen-gaozhi'), /sync/, 'versions are unknown before the sync')
  await forms.sync(db.knex)
  t.same(versions(forms), { 'chengyue-jian': 1, 'fawen-gaozhi': 1, 'shouwen-chuli': 1 })
  const again = new Forms(dir)
  await again.sync(db.knex)
  t.same(versions(again), { 'chengyue-jian': 1, 'fawen-gaozhi': 1, 'shouwen-chuli': 1 })
  t.equal(Number((await db.knex('form_versions').count('* as n'))[0].n), 3)
})

t.test('a changed 笺 gets a new version; a document started before keeps its own to the end', async (t) => {
  const before = new Forms(dir)
  await before.sync(db.knex)
  const old = await startDocument(before.current('fawen-gaozhi').version)

  // when the 正文 becomes required (at least 20 characters) and the template changes
  edit('fawen-gaozhi/schema.json', (s) => s.replace('"$ref": "../common.schema.json#/$defs/longText" }', '"$ref": "../common.schema.json#/$defs/longText", "minLength": 20 }').replace('"required": ["title",', '"required": ["body", "title",'))
  edit('fawen-gaozhi/template.hbs', (s) => s.replace('<div class="form-title">{{form.title}}</div>', '<div class="form-title">{{form.title}}（二〇二六年版）</div>'))
  const forms = new Forms(dir)
  await forms.sync(db.knex)
  t.same(versions(forms), { 'chengyue-jian': 1, 'fawen-gaozhi': 2, 'shouwen-chuli': 1 }, 'only the changed 笺 has a new version')
  const fresh = await startDocument(forms.current('fawen-gaozhi').version)

  // then the old document validates with version 1, the new one with version 2
  const step = { editable: 'body' }
  t.equal(forms.validateStep('fawen-gaozhi', 1, step, data, { body: '短文' }).body, '短文', 'version 1 accepts a short 正文')
  const err = caught(() => forms.validateStep('fawen-gaozhi', 2, step, data, { body: '短文' }))
  t.equal(err.statusCode, 400)
  t.same(err.details, [{ field: 'body', message: '“正文”不能少于 20 个字' }], 'version 2 does not')
  t.same(forms.stepView('fawen-gaozhi', 1, step, data).schema.required, [], 'the step view of version 1 does not require the 正文')
  t.same(forms.stepView('fawen-gaozhi', 2, step, data).schema.required, ['body'])

  // and each renders with its own template
  const a = await rendered(forms, old)
  t.equal(a.version, 1)
  t.notMatch(a.html, '二〇二六年版', 'the old document renders with its old template')
  t.match(a.html, 'data-version="1"')
  const b = await rendered(forms, fresh)
  t.equal(b.version, 2)
  t.match(b.html, '（二〇二六年版）', 'the new document renders with the new one')
  t.equal(forms.describe('fawen-gaozhi', 1).schema.required?.includes('body'), false, 'GET /forms/:key?version=1 describes the old schema')
})

t.test('a change of the shared definitions is a new version of every 笺; old versions keep the old definitions', async (t) => {
  edit('common.schema.json', (s) => s.replace('"enum": ["平件", "加急", "特急"]', '"enum": ["平件", "平急", "加急", "特急"]'))
  const forms = new Forms(dir)
  await forms.sync(db.knex)
  t.same(versions(forms), { 'chengyue-jian': 2, 'fawen-gaozhi': 3, 'shouwen-chuli': 2 })
  const step = { editable: 'urgency' }
  t.equal(forms.validateStep('chengyue-jian', 2, step, demo['chengyue-jian'].data, { urgency: '平急' }).urgency, '平急')
  t.equal(caught(() => forms.validateStep('chengyue-jian', 1, step, demo['chengyue-jian'].data, { urgency: '平急' })).statusCode, 400, 'version 1 still knows three 紧急程度')
})

t.test('restoring the old files is a change too: versions only grow', async (t) => {
  const forms = new Forms(join(root, 'forms'))
  await forms.sync(db.knex)
  t.same(versions(forms), { 'chengyue-jian': 3, 'fawen-gaozhi': 4, 'shouwen-chuli': 3 })
  t.equal(caught(() => forms.get('fawen-gaozhi', 99)).statusCode, 404, 'an unknown version is not found')
})
