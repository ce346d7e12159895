// The inbox written inside the engine's own transaction. The engine's built-in task listener (a
// process engine plugin in engine/operaton) calls these functions through the engine's database
// connection whenever a user task is created, assigned, completed or deleted, and when an
// instance ends; so at every commit the inbox equals the engine's open tasks. A completion that
// the server stored beforehand (state 'completing') is applied here once: the task's state, the
// 笺 changes and its routing-log entry commit with the engine's step move, or not at all.
import type { Knex } from 'knex'

export const functions = String.raw`
create or replace function gongwen_task_created(
  p_task_id text, p_instance_id text, p_definition_id text, p_tenant_id text, p_element_id text, p_step_name text,
  p_form_key text, p_candidate_groups text, p_assignee text, p_execution_id text, p_document_id text
) returns void language plpgsql set search_path from current as $fn$
declare
  d record;
begin
  if p_document_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    -- One flow per document: a second instance for the same document (a start or 分发 sent again
    -- after an answer was lost) fails in the engine's transaction and leaves nothing behind.
    if exists (select 1 from documents where id = p_document_id::uuid and process_instance_key <> p_instance_id) then
      raise exception 'document % already runs in flow instance %', p_document_id,
        (select process_instance_key from documents where id = p_document_id::uuid);
    end if;
    -- Links the instance to its document even when the server died before recording it, and
    -- tells a document started by a message (电子来文) which flow version it runs on.
    update documents
       set process_instance_key = p_instance_id,
           process_definition_key = coalesce(process_definition_key, p_definition_id),
           status = case when status in ('starting', 'failed') then 'running' else status end,
           updated_at = now()
     where id = p_document_id::uuid and (process_instance_key is null or process_instance_key = p_instance_id);
    select id, unit_id, step_limit, remind_before into d from documents where id = p_document_id::uuid;
  end if;
  insert into tasks (task_key, process_instance_key, process_definition_key, document_id, unit_id, element_id, step_name,
                     form_key, candidate_role, assignee, state, created_at, element_instance_key, deadline, remind_at)
  values (p_task_id, p_instance_id, p_definition_id, d.id, coalesce(d.unit_id, p_tenant_id), p_element_id, coalesce(p_step_name, p_element_id),
          p_form_key, nullif(split_part(coalesce(p_candidate_groups, ''), ',', 1), ''), nullif(p_assignee, ''), 'open', now(), p_execution_id,
          -- The same limits drive the BPMN timers; here they colour the inbox (red/yellow/green).
          case when d.step_limit is not null then now() + d.step_limit::interval end,
          case when d.step_limit is not null then now() + d.step_limit::interval - coalesce(d.remind_before, 'PT0S')::interval end)
  on conflict (task_key) do nothing;
end
$fn$;

create or replace function gongwen_task_assigned(p_task_id text, p_assignee text) returns void
language plpgsql set search_path from current as $fn$
begin
  -- 转办 to another person: the new handler has not opened it yet.
  update tasks
     set assignee = nullif(p_assignee, ''),
         opened_at = case when assignee is not null and assignee is distinct from nullif(p_assignee, '') then null else opened_at end
   where task_key = p_task_id and state in ('open', 'moving');
end
$fn$;

create or replace function gongwen_task_completed(p_task_id text) returns void
language plpgsql set search_path from current as $fn$
declare
  t record;
  actor text;
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
  -- The 笺 changes the handler submitted (stored by the server before it called the engine).
  if t.state = 'completing' and t.form_data is not null and t.form_data <> '{}'::jsonb then
    update documents
       set data = data || t.form_data,
           updated_at = at,
           title = case when jsonb_typeof(t.form_data -> 'title') = 'string' then t.form_data ->> 'title' else title end,
           -- A 收文 counts for its 主办 department once 分办 has chosen one.
           department_id = case when jsonb_typeof(t.form_data -> 'hostDepartment') = 'string' then t.form_data ->> 'hostDepartment' else department_id end,
           -- 办理时限 of a 收文, entered at 登记: the end of that day in China.
           deadline = case when (t.form_data ->> 'deadline') ~ '^\d{4}-\d{2}-\d{2}$'
                           then ((t.form_data ->> 'deadline')::date + 1)::timestamp at time zone 'Asia/Shanghai' else deadline end
     where id = t.document_id;
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

create or replace function gongwen_task_deleted(p_task_id text) returns void
language plpgsql set search_path from current as $fn$
begin
  -- Ended without completion: the instance moved (撤回, 退回), was cancelled, or an interrupting event fired.
  update tasks set state = 'canceled', closed_at = now() where task_key = p_task_id and state in ('open', 'completing', 'moving');
end
$fn$;

create or replace function gongwen_instance_ended(p_instance_id text, p_canceled boolean) returns void
language plpgsql set search_path from current as $fn$
begin
  update documents
     set status = case when p_canceled then 'canceled' else 'completed' end, completed_at = now(), updated_at = now()
   where process_instance_key = p_instance_id and status in ('starting', 'running');
  update tasks set state = 'canceled', closed_at = now() where process_instance_key = p_instance_id and state in ('open', 'completing', 'moving');
end
$fn$;
`

export async function up(knex: Knex): Promise<void> {
  await knex.raw(functions)
  // The exporter's bookkeeping is gone with the exporter.
  await knex.schema.dropTableIfExists('engine_progress')
  await knex.schema.dropTableIfExists('incidents')
  // One process id has versions per unit (tenant): the same (id, version) exists once per unit.
  await knex.raw('alter table process_definitions drop constraint if exists process_definitions_bpmn_process_id_version_unique')
  await knex.schema.alterTable('process_definitions', (t) => t.unique(['unit_id', 'bpmn_process_id', 'version']))
  await knex.schema.alterTable('tasks', (t) => {
    /** When the server asked the engine to move this task away (撤回, 退回); cleared if the engine refused. */
    t.timestamp('moving_since', { useTz: true })
    /** The routing-log entry of that move, taken back with it. */
    t.text('move_log_key')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tasks', (t) => t.dropColumns('moving_since', 'move_log_key'))
  await knex.schema.alterTable('process_definitions', (t) => t.dropUnique(['unit_id', 'bpmn_process_id', 'version']))
  for (const fn of ['gongwen_task_created(text,text,text,text,text,text,text,text,text,text,text)', 'gongwen_task_assigned(text,text)', 'gongwen_task_completed(text)', 'gongwen_task_deleted(text)', 'gongwen_instance_ended(text,boolean)']) {
    await knex.raw(`drop function if exists ${fn}`)
  }
}
