// 委托/代理: a person on leave names a delegate of their unit for a period, for every flow or for
// chosen ones. One rule for every flow, kept in the database beside the inbox: a trigger on the
// inbox rows gives a task assigned to the delegator to the delegate when the engine's inbox
// listener writes it (inside the engine's transaction), and a trigger on the routing log records
// what the delegate did on such a task as "X 代 Y", with the delegator to find it by.
// 加签: the signers a handler added to their step (before or after themselves), for the log and
// the tracking diagram.
import type { Knex } from 'knex'

export const functions = String.raw`
create or replace function gongwen_delegate_task() returns trigger
language plpgsql set search_path from current as $fn$
declare
  flow text;
  person text;
  next_person text;
  hops int := 0;
begin
  if tg_op = 'UPDATE' then
    if new.assignee is not distinct from old.assignee then
      return new;
    end if;
    -- The engine reporting the delegator again (its assignment event after create): keep the delegation.
    if old.delegated_from is not null and new.assignee = old.delegated_from then
      new.assignee := old.assignee;
      new.delegated_from := old.delegated_from;
      new.opened_at := old.opened_at;
      return new;
    end if;
  end if;
  new.delegated_from := null;
  if new.assignee is null or new.state <> 'open' then
    return new;
  end if;
  select base_process into flow from process_definitions where key = new.process_definition_key;
  person := new.assignee;
  -- A delegate who is away too passes it on; a few hops at most, and never back to someone seen.
  loop
    select g.delegate_id into next_person
      from delegations g
     where g.delegator_id = person and g.unit_id = new.unit_id and g.revoked_at is null
       and (now() at time zone 'Asia/Shanghai')::date between g.starts_on and g.ends_on
       and (g.flows is null or flow = any (g.flows))
     order by g.created_at desc
     limit 1;
    exit when next_person is null or next_person = new.assignee or hops >= 3;
    person := next_person;
    hops := hops + 1;
    next_person := null;
  end loop;
  if person <> new.assignee then
    new.delegated_from := new.assignee;
    new.assignee := person;
  end if;
  return new;
end
$fn$;

create or replace function gongwen_delegate_log() returns trigger
language plpgsql set search_path from current as $fn$
declare
  principal text;
begin
  if new.actor_id is null or new.dedup_key !~ '^(task|return|transfer|withdraw|jiaqian):' then
    return new;
  end if;
  select delegated_from into principal from tasks where task_key = split_part(new.dedup_key, ':', 2);
  if principal is not null and principal <> new.actor_id then
    new.on_behalf_of := principal;
    new.actor_name := new.actor_name || ' 代 ' || coalesce((select name from users where id = principal), principal);
  end if;
  return new;
end
$fn$;
`

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('delegations', (t) => {
    t.bigIncrements('id')
    t.text('unit_id').notNullable().references('units.id')
    /** The person away (委托人). */
    t.text('delegator_id').notNullable().references('users.id')
    /** The person acting for them (受托人), of the same unit. */
    t.text('delegate_id').notNullable().references('users.id')
    /** Calendar days in China time, both inclusive. */
    t.date('starts_on').notNullable()
    t.date('ends_on').notNullable()
    /** The flows (fawen, fenwen, chengyue) it covers; null for all. */
    t.specificType('flows', 'text[]')
    t.text('created_by').notNullable().references('users.id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('revoked_at', { useTz: true })
    t.index(['delegator_id', 'starts_on'])
    t.index(['unit_id'])
  })
  await knex.schema.alterTable('tasks', (t) => {
    /** The person the task was assigned to, when a delegation gave it to `assignee` instead. */
    t.text('delegated_from')
  })
  await knex.schema.alterTable('routing_log', (t) => {
    /** The delegator an entry was done for ("X 代 Y": actor X, on behalf of Y). */
    t.text('on_behalf_of')
    t.index(['on_behalf_of'])
  })
  await knex.schema.createTable('added_signers', (t) => {
    t.bigIncrements('id')
    t.uuid('document_id').notNullable().references('documents.id')
    t.text('unit_id').notNullable().references('units.id')
    /** The task the signer was added to, and its step. */
    t.text('task_key').notNullable()
    t.text('step').notNullable()
    t.text('step_name').notNullable()
    /** before: signs first, then the task returns to the handler; after: signs after the handler and sends the step on. */
    t.text('mode').notNullable()
    t.text('added_by').notNullable().references('users.id')
    t.text('signer_id').notNullable().references('users.id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('signed_at', { useTz: true })
    t.index(['document_id'])
  })
  await knex.schema.alterTable('tasks', (t) => {
    /** While a signer added before the handler has not signed: the handler the task returns to. */
    t.text('signer_of')
  })
  await knex.raw(functions)
  await knex.raw(`
    create trigger gongwen_delegate_task before insert or update of assignee on tasks
      for each row execute function gongwen_delegate_task();
    create trigger gongwen_delegate_log before insert on routing_log
      for each row execute function gongwen_delegate_log();
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists gongwen_delegate_log on routing_log; drop trigger if exists gongwen_delegate_task on tasks')
  await knex.raw('drop function if exists gongwen_delegate_log(); drop function if exists gongwen_delegate_task()')
  await knex.schema.alterTable('routing_log', (t) => t.dropColumn('on_behalf_of'))
  await knex.schema.alterTable('tasks', (t) => t.dropColumns('delegated_from', 'signer_of'))
  await knex.schema.dropTable('added_signers')
  await knex.schema.dropTable('delegations')
}
