// Chinese labels and date formats shared by the pages.

export const kindLabels: Record<string, string> = { fawen: '发文', shouwen: '收文', chengyue: '呈阅笺' }

export const statusLabels: Record<string, string> = {
  starting: '启动中', running: '办理中', completed: '已办结', canceled: '已终止', failed: '启动失败',
}

export const lightLabels: Record<string, string> = { red: '已超期', yellow: '临近时限', green: '正常' }

export const roleLabels: Record<string, string> = {
  drafter: '拟稿人', dept_head: '科室负责人', leader: '领导', registry: '机要/收发', office_reviewer: '办公室初审',
  office_head: '办公室负责人', unit_admin: '单位管理员',
}

export const channelLabels: Record<string, string> = { web: '网页', mobile: '移动端', api: '接口', system: '系统', engine: '流程引擎' }

/** The kinds of documents a person may start, by the role that starts each, and the 笺 they fill. */
export const startable = [
  { kind: 'fawen', label: '新建发文', form: 'fawen-gaozhi', role: 'drafter', fields: ['title', 'docKind', 'mainRecipients', 'ccRecipients', 'urgency', 'publicity', 'publicityReason', 'body'] },
  { kind: 'chengyue', label: '新建呈阅笺', form: 'chengyue-jian', role: 'drafter', fields: ['title', 'urgency', 'body'] },
  { kind: 'shouwen', label: '收文登记', form: 'shouwen-chuli', role: 'registry', fields: ['title', 'sourceUnit', 'incomingNumber', 'urgency', 'deadline', 'summary'] },
]

const zone = 'Asia/Shanghai'
const dateTime = new Intl.DateTimeFormat('zh-CN', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
const day = new Intl.DateTimeFormat('zh-CN', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })

/** 2026-11-22 08:30 */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const parts = Object.fromEntries(dateTime.formatToParts(new Date(iso)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`
}

/** 2026-11-22 */
export function formatDay(iso: string | null | undefined): string {
  if (!iso) return ''
  const parts = Object.fromEntries(day.formatToParts(new Date(iso)).map((p) => [p.type, p.value]))
  return `${parts.year}-${parts.month}-${parts.day}`
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The search part of the URL as an object. */
export function params(): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(location.search))
}

/** The path segment after /app/<page>/, e.g. the task key of /app/task/123. */
export function pathArg(): string {
  return decodeURIComponent(location.pathname.split('/')[3] ?? '')
}
