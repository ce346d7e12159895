// Documents freeze when signed (签发). The completion of a 发文 step with the route 签发 sets
// documents.issued_at in the engine's own transaction (gongwen_task_completed, replaced here), so
// the freeze commits with the step move, once. From then on the 笺 fields the signed text depends
// on are never merged from a later completion, whatever the server checked before (the server
// refuses such a change with 409 first; this is the second wall). The seal records which 正文
// version it sealed, and a correction (更正) is a new 发文 pointing at the one it corrects.
import type { Knex } from 'knex'
import { functions as engineInboxFunctions } from './009-engine-inbox.ts'

/** Keep in step with frozenFields in server/services/frozen.ts. */
const frozen = `array['title','docKind','mainRecipients','ccRecipients','urgency','publicity','publicityReason','body','attachments']`

const completed = String.raw`
create or replace function gongwen_task_completed(p_task_id text) returns void
language plpgsql set search_path from current as $fn$
declare
  t record;
  actor text;
  changes jsonb;
  at timestamptz := now();
begin
  select * into t from tasks where task_key = p_task_id for update;
  if not found or t.state in ('completed', 'canceled') then
    return;
  end if;
  update tasks set state = 'completed', closed_at = at where task_key = p_task_id;
  if t.document_id is null then
    return;
  end if;
  -- The 笺 changes the handler submitted (stored by the server before it called the engine); once
  -- the document is signed, the fields its signed text depends on are left as signed.
  if t.state = 'completing' and t.form_data is not null and t.form_data <> '{}'::jsonb then
    select case when d.issued_at is null then t.form_data else t.form_data - ${frozen} end into changes
      from documents d where d.id = t.document_id for update;
    update documents
       set data = data || changes,
           updated_at = at,
           title = case when jsonb_typeof(changes -> 'title') = 'string' then changes ->> 'title' else title end,
           -- A 收文 counts for its 主办 department once 分办 has chosen one.
           department_id = case when jsonb_typeof(changes -> 'hostDepartment') = 'string' then changes ->> 'hostDepartment' else department_id end,
           -- 办理时限 of a 收文, entered at 登记: the end of that day in China.
           deadline = case when (changes ->> 'deadline') ~ '^\d{4}-\d{2}-\d{2}$'
                           then ((changes ->> 'deadline')::date + 1)::timestamp at time zone 'Asia/Shanghai' else deadline end
     where id = t.document_id;
  end if;
  -- 签发: the 发文 is signed; its text, files and the fields above are frozen from this commit on.
  if t.state = 'completing' and t.route = '签发' then
    update documents set issued_at = at, issued_by = t.completed_by, updated_at = at
     where id = t.document_id and kind = 'fawen' and issued_at is null;
  end if;
  select name into actor from users where id = t.completed_by;
  insert into routing_log (document_id, unit_id, dedup_key, step, step_name, actor_id, actor_name, actor_role,
                           blank_signature, route, opinion, channel, at)
  values (t.document_id, t.unit_id, 'task:' || p_task_id, t.element_id, t.step_name, t.completed_by,
          coalesce(actor, '（流程引擎外办理）'), nullif(split_part(coalesce(t.candidate_role, ''), '@', 1), ''),
          coalesce(t.blank_signature, false), t.route, t.opinion, coalesce(t.channel, 'engine'), coalesce(t.submitted_at, at))
  on conflict (dedup_key) do nothing;
end
$fn$;
`

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('documents', (t) => {
    /** 签发: when the 发文 was signed (and frozen), and by whom. */
    t.timestamp('issued_at', { useTz: true })
    t.text('issued_by')
    /** The 正文 version the seal was applied to (its sha256 is sealed_sha256). */
    t.uuid('sealed_version_id').references('file_versions.id')
    /** 更正: the earlier 发文 of the same unit that this one corrects. */
    t.uuid('corrects_document_id').references('documents.id')
    t.index(['corrects_document_id'])
  })
  // Documents signed before this version: their 签发 in the routing log, or their 发文字号.
  await knex.raw(`
    update documents d
       set issued_at = coalesce((select min(l.at) from routing_log l where l.document_id = d.id and l.route = '签发'), d.sealed_at, d.updated_at)
     where d.kind = 'fawen' and d.issued_at is null
       and (d.doc_number is not null or exists (select 1 from routing_log l where l.document_id = d.id and l.route = '签发'))`)
  await knex.raw(`
    update documents d
       set sealed_version_id = (select v.id from files f join file_versions v on v.file_id = f.id
                                 where f.document_id = d.id and f.kind = '正文' and v.sha256 = d.sealed_sha256
                                 order by v.version desc limit 1)
     where d.sealed_at is not null and d.sealed_sha256 is not null and d.sealed_version_id is null`)
  await knex.raw(completed)
}

export async function down(knex: Knex): Promise<void> {
  // The functions as 009 made them.
  await knex.raw(engineInboxFunctions)
  await knex.schema.alterTable('documents', (t) => {
    t.dropIndex(['corrects_document_id'])
    t.dropColumns('issued_at', 'issued_by', 'sealed_version_id', 'corrects_document_id')
  })
}
