// The Chinese wording of each kind of notification; every text names the document and the step.
export type NotificationKind = 'reminder' | 'overdue' | 'urge' | 'arrival'

export const notificationKinds: readonly NotificationKind[] = ['reminder', 'overdue', 'urge', 'arrival']

const when = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false })

export function notificationText(kind: NotificationKind, task: { title: string; stepName: string; deadline: Date | null }, note?: string): string {
  const what = `《${task.title}》在“${task.stepName}”步骤`
  const deadline = task.deadline ? `（办理时限 ${when.format(task.deadline)}）` : ''
  const base = {
    reminder: `【办理提醒】${what}待您办理，即将到达办理时限${deadline}，请及时办理。`,
    overdue: `【超期提醒】${what}已超过办理时限${deadline}，请尽快办理。`,
    urge: `【催办】${what}待您办理，请尽快办理。`,
    arrival: `【新待办】${what}待您办理。`,
  }[kind]
  return note ? `${base}${note}` : base
}
