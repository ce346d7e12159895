// The organisation tree on the real engine: the platform admin creates units (信用代码 checked),
// names their admins, renames, deactivates, merges and imports them (CSV dry run, XLSX); a new
// unit receives a 分发 at once; 分发 recipients are chosen by unit, group or saved list; nobody
// else may do any of it.
import ExcelJS from 'exceljs'
import t from 'tap'
import { withCheckChar } from '../server/org-tree/credit-code.ts'
import { act, documentAs } from './helpers/flows.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const knex = () => stack.server!.knex

const code = (n: number) => withCheckChar(`11450200MB${String(n).padStart(7, '0')}`)
const county = (id: string, name: string, n: number) => ({ id, name, creditCode: code(n), level: 'county', parentId: 'liuzhou-gov', docNumberPrefix: `${name.slice(0, 2)}政发` })
const platform = api.as('platform')
const unitIds = async () => (await platform.get('/platform/units')).body.map((u: { id: string }) => u.id).sort()

/** A 发文 of 柳州市人民政府办公室 driven to 盖章; returns its id (用印 is left to the caller). */
async function toGaizhang(data: Record<string, unknown>) {
  const id = await startFawen(api, 'zhangwei', draft({ ccRecipients: [], ...data }))
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发', nextHandler: 'wangqiang' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
  return id
}
async function distribute(id: string) {
  await act(api, 'chenjing', id, 'gaizhang', { route: '用印' })
  return waitFor('document completed', async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  })
}

t.test('a unit is created only with a valid 统一社会信用代码, and its flows are deployed at once', async (t) => {
  const before = await unitIds()
  const wrongCheck = county('liubei-gov', '柳北区人民政府', 1)
  wrongCheck.creditCode = wrongCheck.creditCode.slice(0, 17) + (wrongCheck.creditCode[17] === '1' ? '2' : '1')
  for (const [bad, why] of [[wrongCheck, '校验位'], [{ ...wrongCheck, creditCode: '1145020000756543' }, '18 位'], [{ ...wrongCheck, creditCode: '11450200OO7565434N' }, '不允许的字符']] as const) {
    const res = await platform.post('/platform/units', bad)
    t.equal(res.status, 400, why)
    t.equal(res.body.details[0].field, 'creditCode')
    t.match(res.body.details[0].message, why)
  }
  const wrongParent = await platform.post('/platform/units', { ...county('liubei-gov', '柳北区人民政府', 1), parentId: 'liuzhou-edu' })
  t.equal(wrongParent.status, 400)
  t.match(wrongParent.body.details, [{ field: 'parentId', message: /上级须为市级/ }])
  t.same(await unitIds(), before, 'nothing was created')

  const created = await platform.post('/platform/units', county('liubei-gov', '柳北区人民政府', 1))
  t.equal(created.status, 201, JSON.stringify(created.body))
  t.match(created.body, { id: 'liubei-gov', level: 'county', parentId: 'liuzhou-gov', active: true, sealName: '柳北区人民政府印章' })
  const flows = await knex()('process_definitions').where({ unit_id: 'liubei-gov' }).pluck('bpmn_process_id')
  t.same([...new Set(flows)].sort(), ['chengyue', 'fawen', 'fenwen'], 'the three flows are deployed under its tenant')
  t.equal((await platform.post('/platform/units', county('liunan-gov', '柳南区人民政府', 1))).status, 400, 'a code is used once')
  t.equal((await platform.post('/platform/units', county('liunan-gov', '柳南区人民政府', 2))).status, 201)
})

t.test('the platform admin names a unit admin, who logs in and manages that unit only', async (t) => {
  const named = await platform.post('/platform/units/liubei-gov/admins', { username: 'liubeiadmin', name: '柳北管理员', password: 'gongwen123' })
  t.equal(named.status, 200, JSON.stringify(named.body))
  t.same(named.body.admins, [{ id: 'liubeiadmin', name: '柳北管理员' }])
  const admin = api.as('liubeiadmin')
  const dept = await admin.post('/admin/departments', { name: '办公室' })
  t.equal(dept.status, 201)
  const reg = await admin.post('/admin/people', { username: 'liubeireg', name: '柳北收发员', departmentId: dept.body.id, password: 'gongwen123', roles: ['registry'] })
  t.equal(reg.status, 201, JSON.stringify(reg.body))
  const people = (await admin.get('/admin/people')).body.map((p: { id: string }) => p.id).sort()
  t.same(people, ['liubeiadmin', 'liubeireg'], 'only the people of its own unit')
  t.equal((await api.call('PATCH', '/admin/people/zhangwei', { as: 'liubeiadmin', body: { name: '别人' } })).status, 404, 'nobody of another unit')
  t.equal((await platform.post('/platform/units/liubei-gov/admins', { userId: 'zhangwei' })).status, 400, 'a person of another unit cannot be named')
})

t.test('groups and saved lists resolve to the active units they name', async (t) => {
  const groups = (await api.as('zhangwei').get('/recipient-groups')).body
  t.match(groups.find((g: { id: string }) => g.id === 'liuzhou-gov:county'), { name: '各区县人民政府', count: 2 })
  t.match(groups.find((g: { id: string }) => g.id === 'liuzhou-gov:department'), { name: '市直各部门', count: 2 })
  const resolved = await api.as('zhangwei').post('/recipients/resolve', { groups: ['liuzhou-gov:county'], units: ['liuzhou-edu', 'liubei-gov'] })
  t.equal(resolved.status, 200)
  t.same(resolved.body.unitIds, ['liuzhou-edu', 'liubei-gov', 'liunan-gov'], 'each unit once, in the order chosen')
  const bad = await api.as('zhangwei').post('/recipients/resolve', { groups: ['liuzhou-gov:township'], units: ['nowhere'] })
  t.equal(bad.status, 400)
  t.same(bad.body.details.map((d: { field: string }) => d.field).sort(), ['groups', 'units'])

  const saved = await api.as('zhangwei').post('/recipient-lists', { name: '区县和教育局', groups: ['liuzhou-gov:county'], units: ['liuzhou-edu'] })
  t.equal(saved.status, 201)
  t.same(saved.body.unitIds, ['liuzhou-edu', 'liubei-gov', 'liunan-gov'])
  t.equal((await api.as('zhangwei').post('/recipient-lists', { name: '区县和教育局', units: ['liuzhou-edu'] })).status, 400, 'names are unique in the unit')
  t.same((await api.as('lina').post('/recipients/resolve', { lists: [saved.body.id] })).body.unitIds, ['liuzhou-edu', 'liubei-gov', 'liunan-gov'], 'a colleague uses the unit’s list')
  const other = await api.as('huangmei').post('/recipients/resolve', { lists: [saved.body.id] })
  t.equal(other.status, 400, 'another unit cannot use it')
  t.equal(other.body.details[0].field, 'lists')
  t.notOk((await api.as('huangmei').get('/recipient-lists')).body.length, 'nor see it')
})

let delivered = ''
t.test('a new unit receives a 分发 chosen by group, and its registry gets the 签收', async (t) => {
  const id = await toGaizhang({ mainRecipients: { groups: ['liuzhou-gov:county'] } })
  const doc = await distribute(id)
  t.same(doc.data.mainRecipients, ['liubei-gov', 'liunan-gov'], 'the selection is stored as unit ids')
  t.same(doc.deliveries.map((d: { unitId: string }) => d.unitId), ['liubei-gov', 'liunan-gov'])
  const task = await taskFor(api, 'liubeireg', doc.deliveries[0] && (await knex()('deliveries').where({ document_id: id, recipient_unit_id: 'liubei-gov' }).first()).incoming_document_id, 'qianshou')
  t.ok(task, 'the new unit’s registry has its 签收 task')
  delivered = task.documentId
})

t.test('a renamed unit keeps its id; a deactivated one keeps its history but starts and receives nothing', async (t) => {
  const renamed = await api.call('PATCH', '/platform/units/liunan-gov', { as: 'platform', body: { name: '柳州市柳南区人民政府' } })
  t.equal(renamed.status, 200)
  t.equal((await api.as('zhangwei').get('/units')).body.find((u: { id: string }) => u.id === 'liunan-gov').name, '柳州市柳南区人民政府')
  t.equal((await api.call('PATCH', '/platform/units/liunan-gov', { as: 'platform', body: { creditCode: code(1) } })).status, 400, 'not to a code another unit holds')

  const inFlight = await toGaizhang({ mainRecipients: ['liubei-gov', 'liuzhou-edu'] })
  const off = await platform.post('/platform/units/liubei-gov/deactivate')
  t.equal(off.status, 200)
  t.equal(off.body.active, false)
  const read = await api.as('liubeireg').get(`/documents/${delivered}`)
  t.equal(read.status, 200, 'its people still read what it received')
  const start = await api.as('liubeireg').post('/documents', { kind: 'shouwen', data: { title: '纸质来文', sourceUnit: '某单位', urgency: '平件' } })
  t.equal(start.status, 403, 'its people start nothing new')
  t.match(start.body.message, '柳北区人民政府已停用')
  const refused = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ mainRecipients: ['liuzhou-edu', 'liubei-gov'] }) })
  t.equal(refused.status, 400, '分发 to it is refused')
  t.match(refused.body.details, [{ field: 'mainRecipients', message: /柳北区人民政府已停用/ }])
  t.same((await api.as('zhangwei').post('/recipients/resolve', { groups: ['liuzhou-gov:county'] })).body.unitIds, ['liunan-gov'], 'groups leave it out')
  t.equal((await api.as('zhangwei').get('/units')).body.find((u: { id: string }) => u.id === 'liubei-gov').active, false)
  t.equal((await platform.post('/platform/units/liuzhou-gov/deactivate')).status, 409, 'a unit with active units under it stays')
  const doc = await distribute(inFlight)
  t.same(doc.deliveries.map((d: { unitId: string }) => d.unitId), ['liuzhou-edu'], 'a 分发 chosen before the deactivation skips it')
  t.ok(doc.log.some((e: { opinion: string | null }) => e.opinion === '柳北区人民政府已停用，不再向其分发'), 'and the routing log says so')
})

t.test('a merged unit sends on to its successor what was chosen for it before the merge', async (t) => {
  t.equal((await platform.post('/platform/units', county('yufeng-gov', '鱼峰区人民政府', 3))).status, 201)
  const inFlight = await toGaizhang({ mainRecipients: ['liunan-gov', 'yufeng-gov'] })
  const merged = await platform.post('/platform/units/liunan-gov/merge', { into: 'yufeng-gov' })
  t.equal(merged.status, 200, JSON.stringify(merged.body))
  t.match(merged.body, { active: false, mergedInto: 'yufeng-gov' })
  t.equal((await platform.post('/platform/units/yufeng-gov/merge', { into: 'yufeng-gov' })).status, 400)

  const doc = await distribute(inFlight)
  t.same(doc.deliveries.map((d: { unitId: string }) => d.unitId), ['yufeng-gov'], 'delivered to the unit it merged into, once')
  t.ok(doc.log.some((e: { opinion: string | null }) => e.opinion?.includes('已并入鱼峰区人民政府')), 'the routing log says why')

  const named = await api.as('zhangwei').post('/documents', { kind: 'fawen', data: draft({ mainRecipients: ['liunan-gov'] }) })
  t.equal(named.status, 400)
  t.match(named.body.details[0].message, '请改选鱼峰区人民政府')
  const list = (await api.as('zhangwei').get('/recipient-lists')).body[0]
  const viaList = await api.as('zhangwei').post('/recipients/resolve', { lists: [list.id] })
  t.same(viaList.body.unitIds, ['liuzhou-edu', 'yufeng-gov'], 'a saved list sends to the successor and skips the deactivated')
  t.equal(viaList.body.notes.length, 2)
})

const header = '单位编号,单位名称,统一社会信用代码,层级,上级单位编号,发文字号前缀,印章名称'
t.test('a CSV dry run reports every bad row and changes nothing; the real import is all or nothing', async (t) => {
  const before = await unitIds()
  const csv = [
    header,
    `chengzhong-gov,城中区人民政府,${code(10)},区县,liuzhou-gov,城政发,`,
    `bad-code,坏代码单位,${code(11).slice(0, 17)}X,部门,chengzhong-gov,坏发,`,
    `chengzhong-edu,城中区教育局,${code(12)},部门,no-such-unit,城教发,`,
    `chengzhong-gov,城中区人民政府重复,${code(13)},区县,liuzhou-gov,城政发,`,
    `BadId,大写编号,${code(14)},乡镇,chengzhong-gov,大发,`,
  ].join('\n')
  const dry = await platform.post('/platform/units/import', { format: 'csv', content: csv, dryRun: true })
  t.equal(dry.status, 200)
  t.equal(dry.body.ok, false)
  t.same(dry.body.problems.map((p: { row: number; field: string }) => [p.row, p.field]), [[3, 'creditCode'], [4, 'parentId'], [5, 'id'], [6, 'id']])
  t.match(dry.body.problems[0].message, '校验位')
  t.same(await unitIds(), before, 'the dry run changed nothing')
  const real = await platform.post('/platform/units/import', { format: 'csv', content: csv })
  t.equal(real.status, 400)
  t.match(real.body.details[0], { field: 'rows[3].creditCode', message: /^第 3 行/ })
  t.same(await unitIds(), before, 'a refused import changed nothing')

  const good = [header, `chengzhong-gov,城中区人民政府,${code(10)},区县,liuzhou-gov,城政发,`, `"yufeng-gov","鱼峰区人民政府","${code(3)}","区县","liuzhou-gov","鱼政发","鱼峰区人民政府印章"`].join('\r\n')
  const ok = await platform.post('/platform/units/import', { format: 'csv', content: `\uFEFF${good}`, dryRun: false })
  t.equal(ok.status, 200, JSON.stringify(ok.body))
  t.same([ok.body.created, ok.body.updated], [['chengzhong-gov'], ['yufeng-gov']])
  t.equal((await platform.get('/platform/units')).body.find((u: { id: string }) => u.id === 'yufeng-gov').docNumberPrefix, '鱼政发', 'an existing unit is updated')
})

t.test('an XLSX import creates units in tree order and deploys their flows', async (t) => {
  const book = new ExcelJS.Workbook()
  const sheet = book.addWorksheet('单位')
  sheet.addRow(header.split(','))
  // The township comes before its county: the import orders them.
  sheet.addRow(['liushi-town', '流山镇人民政府', code(21), '乡镇', 'liujiang-gov', '流政发', null])
  sheet.addRow(['liujiang-gov', '柳江区人民政府', code(20), '区县', 'liuzhou-gov', '江政发', null])
  const content = Buffer.from(await book.xlsx.writeBuffer()).toString('base64')
  const dry = await platform.post('/platform/units/import', { format: 'xlsx', content, dryRun: true })
  t.same([dry.status, dry.body.ok, dry.body.created], [200, true, ['liushi-town', 'liujiang-gov']])
  t.notOk((await unitIds()).includes('liujiang-gov'))
  const real = await platform.post('/platform/units/import', { format: 'xlsx', content })
  t.equal(real.status, 200, JSON.stringify(real.body))
  const units = (await platform.get('/platform/units')).body
  t.match(units.find((u: { id: string }) => u.id === 'liushi-town'), { level: 'township', parentId: 'liujiang-gov' })
  t.equal((await knex()('process_definitions').where({ unit_id: 'liushi-town' }).countDistinct('bpmn_process_id as n'))[0].n, '3')
  const broken = await platform.post('/platform/units/import', { format: 'xlsx', content: Buffer.from('not a workbook').toString('base64'), dryRun: true })
  t.equal(broken.status, 400)
  t.equal(broken.body.details[0].field, 'content')
})

t.test('only the platform admin keeps the tree: unit admins, staff and integrator keys get 403', async (t) => {
  const calls: Array<[string, string, unknown?]> = [
    ['GET', '/platform/units'],
    ['POST', '/platform/units', county('evil-gov', '某区人民政府', 99)],
    ['PATCH', '/platform/units/liuzhou-edu', { name: '改名' }],
    ['POST', '/platform/units/liuzhou-edu/deactivate'],
    ['POST', '/platform/units/liuzhou-edu/merge', { into: 'liuzhou-fin' }],
    ['POST', '/platform/units/import', { format: 'csv', content: header, dryRun: true }],
    ['POST', '/platform/units/liuzhou-edu/admins', { userId: 'huangmei' }],
    ['DELETE', '/platform/units/liuzhou-gov/admins/zhouadmin'],
  ]
  for (const [method, path, body] of calls) {
    for (const who of [{ as: 'zhouadmin' }, { as: 'zhangwei' }, { as: 'liubeiadmin' }, { apiKey: 'demo-key-liuzhou-gov' }]) {
      const res = await api.call(method, path, { ...who, body })
      t.equal(res.status, 403, `${method} ${path} as ${JSON.stringify(who)}`)
    }
  }
  t.equal((await api.call('GET', '/platform/units')).status, 401)
  t.equal((await platform.get('/platform/units')).status, 200)
  t.same((await knex()('units').where({ id: 'liuzhou-edu' }).first('name', 'active')), { name: '柳州市教育局', active: true }, 'nothing changed')
  // The platform admin's account is not the unit admin's to change, and the role cannot be granted.
  t.equal((await api.call('PATCH', '/admin/people/platform', { as: 'zhouadmin', body: { password: 'takeover123' } })).status, 404)
  t.equal((await api.call('POST', '/admin/people/platform/revoke-sessions', { as: 'zhouadmin' })).status, 404)
  t.equal((await api.call('PATCH', '/admin/people/zhangwei', { as: 'zhouadmin', body: { roles: ['drafter', 'platform_admin'] } })).status, 400)
})
