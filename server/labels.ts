// The one table of Chinese labels for the codes a person reads: roles, channels, kinds and states
// of documents. The server (printed 笺, routing log, CSV, error messages) and the web pages
// (web/lib/format.ts re-exports it) both read it, so a code shows the same words everywhere.
// Pure data: no imports, safe in the browser bundle.

/** Roles a person may hold (org admin), and the candidate role of a step. */
export const roleLabels: Record<string, string> = {
  drafter: '拟稿人',
  dept_head: '科室负责人',
  office_reviewer: '办公室审核',
  office_head: '办公室主任',
  leader: '领导',
  registry: '机要/收发',
  unit_admin: '单位管理员',
}

/** How an action reached the system (routing log, audit trail). */
export const channelLabels: Record<string, string> = { web: '网页', mobile: '移动端', api: '接口', system: '系统', engine: '流程引擎' }

export const kindLabels: Record<string, string> = { fawen: '发文', shouwen: '收文', chengyue: '呈阅笺', lianhe: '联合发文会签' }

export const statusLabels: Record<string, string> = {
  starting: '启动中', running: '办理中', completed: '已办结', canceled: '已终止', failed: '启动失败', refused: '已退文',
}

/**
 * A role as a person reads it: its label, for a candidate role bound to a department
 * (`dept_head@<department>`) the label of the role part; an unknown code stays as it is.
 */
export function roleLabel(role: string | null | undefined): string {
  if (!role) return ''
  const code = role.split('@')[0]
  return roleLabels[code] ?? code
}

export function channelLabel(channel: string | null | undefined): string {
  if (!channel) return ''
  return channelLabels[channel] ?? channel
}

/** What an audit entry's action (`METHOD /route`) means to the admin reading the trail. */
export const actionLabels: Record<string, string> = {
  'POST /auth/login': '登录',
  'POST /auth/logout': '退出登录',
  'POST /auth/password': '修改密码',
  'POST /documents': '新建公文',
  'GET /documents/:id': '查看公文',
  'POST /documents/:id/convert': '转笺',
  'POST /documents/:id/merge': '合并公文',
  'GET /documents/:id/files': '查看文件列表',
  'POST /documents/:id/files': '上传文件',
  'POST /documents/:id/files/:fileId/versions': '上传文件新版本',
  'GET /files/versions/:versionId': '下载文件',
  'GET /documents/:id/jian': '查看笺',
  'GET /documents/:id/jian.pdf': '打印笺（PDF）',
  'POST /tasks/:key/complete': '办理',
  'POST /tasks/:key/return': '退回',
  'POST /tasks/:key/transfer': '转办',
  'POST /tasks/:key/urge': '催办',
  'POST /tasks/:key/withdraw': '撤回',
  'POST /notifications/:id/read': '标记通知已读',
  'POST /people/me/phrases': '添加常用意见',
  'DELETE /people/me/phrases/:id': '删除常用意见',
  'PUT /people/me/phone': '修改手机号',
  'PUT /settings/notifications': '修改通知设置',
  'PUT /settings/unit': '修改单位设置',
  'POST /processes/:baseId/lint': '校验流程',
  'POST /processes/:baseId/deploy': '部署流程',
  'POST /admin/departments': '新增部门',
  'PATCH /admin/departments/:id': '修改部门',
  'POST /admin/people': '新增人员',
  'PATCH /admin/people/:id': '修改人员',
  'POST /admin/people/:id/unlock': '解锁账号',
  'POST /admin/people/:id/revoke-sessions': '强制下线',
  'POST /admin/api-keys': '新建接口密钥',
  'PATCH /admin/api-keys/:id': '修改接口密钥',
  'POST /admin/api-keys/:id/revoke': '吊销接口密钥',
  'POST /admin/api-keys/:id/rotate': '轮换接口密钥',
  'POST /admin/dead-letters/:kind/:id/retry': '重试失败任务',
  'POST /admin/dead-letters/:kind/:id/discard': '放弃失败任务',
  'GET /admin/audit': '查看行为审计',
  'GET /admin/audit.csv': '导出行为审计',
  'GET /admin/audit/verify': '校验行为审计',
}

/** An audit action as a person reads it; an action without a label keeps its code. */
export function actionLabel(action: string): string {
  return actionLabels[action] ?? action
}
