// Choosing recipient units (主送, 抄送) from the organisation tree: tick units one by one, or add a
// whole group (e.g. 各区县人民政府) or one of the unit's saved lists at once; the current choice can
// be saved as a list. Deactivated units are not offered (ones already chosen still show).
import { useEffect, useState } from 'preact/hooks'
import { get, post } from '../lib/api.ts'

interface Group { id: string; name: string; count: number }
interface SavedList { id: string; name: string; unitIds: string[] }
export interface UnitOption { id: string; name: string; active?: boolean }

let shared: Promise<[Group[], SavedList[]]> | null = null
const loadChoices = () => (shared ??= Promise.all([get<Group[]>('/recipient-groups'), get<SavedList[]>('/recipient-lists')]))

export function RecipientPicker({ id, name, value, units, onChange }: { id: string; name: string; value: unknown; units: UnitOption[]; onChange: (v: unknown) => void }) {
  const [groups, setGroups] = useState<Group[]>([])
  const [lists, setLists] = useState<SavedList[]>([])
  const [message, setMessage] = useState<string | null>(null)
  useEffect(() => {
    loadChoices().then(([g, l]) => { setGroups(g); setLists(l) }, () => undefined)
  }, [])
  const chosen = Array.isArray(value) ? (value as string[]) : []
  const chosenSet = new Set(chosen)
  const offered = units.filter((u) => u.active !== false || chosenSet.has(u.id))
  const set = (ids: string[]) => onChange(ids.length ? ids : undefined)
  const toggle = (unitId: string, on: boolean) => set(on ? [...chosen, unitId] : chosen.filter((x) => x !== unitId))
  const add = async (selection: { groups?: string[]; lists?: string[] }, label: string) => {
    setMessage(null)
    try {
      const res = await post<{ unitIds: string[]; notes: string[] }>('/recipients/resolve', selection)
      set([...new Set([...chosen, ...res.unitIds])])
      setMessage([`已加入${label}（${res.unitIds.length} 个单位）`, ...res.notes].join('；'))
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err))
    }
  }
  const save = async () => {
    const listName = prompt('常用名单名称')?.trim()
    if (!listName) return
    try {
      const saved = await post<SavedList>('/recipient-lists', { name: listName, units: chosen })
      setLists([...lists, saved])
      shared = null
      setMessage(`已保存常用名单“${listName}”`)
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err))
    }
  }
  return (
    <div class="recipient-picker" data-picker={name}>
      {(groups.length > 0 || lists.length > 0) && (
        <div class="picker-shortcuts">
          {groups.length > 0 && <span class="muted">按分组：</span>}
          {groups.map((g) => <button type="button" class="small" key={g.id} data-group={g.id} onClick={() => add({ groups: [g.id] }, `“${g.name}”`)}>{g.name}（{g.count}）</button>)}
          {lists.length > 0 && <span class="muted">常用名单：</span>}
          {lists.map((l) => <button type="button" class="small" key={l.id} data-list={l.id} onClick={() => add({ lists: [l.id] }, `常用名单“${l.name}”`)}>{l.name}</button>)}
        </div>
      )}
      <div class="choices" id={id} role="group" aria-label={name}>
        {offered.map((o) => (
          <label key={o.id} class="choice">
            <input type="checkbox" name={name} value={o.id} checked={chosenSet.has(o.id)} onChange={(e) => toggle(o.id, (e.currentTarget as HTMLInputElement).checked)} />
            {o.name}{o.active === false && '（已停用）'}
          </label>
        ))}
      </div>
      {chosen.length > 0 && <button type="button" class="small link" onClick={save}>将所选 {chosen.length} 个单位保存为常用名单</button>}
      {message && <small class="hint" role="status">{message}</small>}
    </div>
  )
}
