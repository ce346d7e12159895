// A document's 笺 as its readers see it: the document row, its 笺 at the document's own version,
// its routing log placed in the opinion boxes of its steps, and names for the ids it holds.
import type { Knex } from 'knex'
import type { ProcessModel } from '../../engine/port.ts'
import { fail } from '../errors.ts'
import { documentKinds, type Documents } from '../services/documents.ts'
import type { Principal } from '../services/principal.ts'
import type { ProcessModels } from '../services/process-models.ts'
import type { FormVersion, Picker } from './compile.ts'
import type { Forms } from './forms.ts'
import type { JianContext, OpinionEntry } from './render.ts'

export class Jian {
  constructor(
    private readonly knex: Knex,
    private readonly forms: Forms,
    private readonly models: ProcessModels,
    private readonly documents: Documents,
  ) {}

  /** The rendered 笺 of a document the caller may read (else 404). */
  async html(p: Principal, id: string, print: boolean): Promise<{ html: string; title: string }> {
    if (!(await this.documents.canRead(p, id))) throw fail('NOT_FOUND', '未找到该公文')
    const { form, ctx } = await this.load(id)
    for (const field of await this.documents.hiddenFields(p, id)) delete ctx.data[field]
    return { html: await this.forms.render(form, ctx, { print }), title: String(ctx.data.title ?? ctx.document.title) }
  }

  async pdf(p: Principal, id: string): Promise<{ pdf: Buffer; title: string }> {
    const { html, title } = await this.html(p, id, true)
    return { pdf: await this.forms.printer.pdf(html), title }
  }

  async load(id: string): Promise<{ form: FormVersion; ctx: JianContext }> {
    const doc = await this.knex('documents as d')
      .join('units as u', 'u.id', 'd.unit_id')
      .leftJoin('users as c', 'c.id', 'd.created_by')
      .leftJoin('departments as dep', 'dep.id', this.knex.raw('coalesce(d.department_id, c.department_id)'))
      .where('d.id', id)
      .first('d.*', 'u.name as unit_name', 'c.name as creator_name', 'dep.name as department_name')
    if (!doc) throw fail('NOT_FOUND', '未找到该公文')
    const model = doc.process_definition_key ? await this.models.byKey(doc.process_definition_key) : null
    const key = formKeyOf(model) ?? documentKinds[doc.kind]?.form
    if (!key) throw fail('INTERNAL', `公文类型“${doc.kind}”没有对应的笺`)
    const form = this.forms.get(key, doc.form_version ?? null)
    const log = await this.knex('routing_log').where({ document_id: id }).orderBy([{ column: 'at' }, { column: 'id' }])
    // Only user tasks sign the 笺; automated steps (盖章, 分发) show as document facts instead.
    const opinions: OpinionEntry[] = log
      .filter((r) => model?.userTasks.has(r.step))
      .map((r) => ({
        box: model!.userTasks.get(r.step)!.properties.opinion ?? null,
        step: r.step,
        stepName: r.step_name,
        actorName: r.actor_name,
        actorRole: r.actor_role ?? null,
        opinion: r.opinion,
        blankSignature: Boolean(r.blank_signature),
        channel: r.channel,
        at: r.at,
      }))
    const data = (doc.data ?? {}) as Record<string, unknown>
    return {
      form,
      ctx: {
        document: {
          id: doc.id,
          title: doc.title,
          docNumber: doc.doc_number,
          unitName: doc.unit_name,
          departmentName: doc.department_name ?? null,
          createdByName: doc.creator_name ?? null,
          createdAt: doc.created_at,
          sealName: doc.seal_name,
          sealedAt: doc.sealed_at,
          sealedSha256: doc.sealed_sha256 ?? null,
          coSeals: await this.knex('document_seals as s').join('units as u', 'u.id', 's.unit_id')
            .where({ 's.document_id': id, 's.lead': false }).orderBy('s.sealed_at').select('u.name as unitName', 's.seal_name as sealName'),
        },
        data,
        opinions,
        names: await this.names(form, data, doc.unit_id),
      },
    }
  }

  /** Names for the ids the 笺 holds: any unit; people, departments and documents of the document's unit only. */
  private async names(form: FormVersion, data: Record<string, unknown>, unitId: string): Promise<JianContext['names']> {
    const ids: Record<Picker, string[]> = { person: [], unit: [], department: [], document: [] }
    for (const [field, picker] of Object.entries(form.pickers)) {
      const value = data[field]
      for (const v of Array.isArray(value) ? value : value == null ? [] : [value]) ids[picker].push(String(v))
    }
    const lookup = async (table: string, column: string, list: string[], scoped: boolean) => {
      if (!list.length) return {}
      const q = this.knex(table).whereIn('id', list).select('id', `${column} as name`)
      if (scoped) q.where('unit_id', unitId)
      return Object.fromEntries((await q).map((r: { id: string; name: string }) => [r.id, r.name]))
    }
    // Only well-formed ids reach the uuid column (an old version's data may hold anything).
    const uuids = ids.document.filter((v) => /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(v))
    const [unit, person, department, document] = await Promise.all([
      lookup('units', 'name', ids.unit, false),
      lookup('users', 'name', ids.person, true),
      lookup('departments', 'name', ids.department, true),
      lookup('documents', 'title', uuids, true),
    ])
    return { unit, person, department, document }
  }
}

/** The 笺 a process's user tasks are bound to (lint keeps it to one per process). */
function formKeyOf(model: ProcessModel | null): string | null {
  for (const task of model?.userTasks.values() ?? []) if (task.formKey) return task.formKey
  return null
}
