// Every 办理方式 of every user task in the three flows, and each 退回 target, taken once on a real
// engine: the flow must arrive at the step (and person) the model says. Routes are checked
// against the parsed models, so a route added to a model without a case here fails the test.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseModel } from '../engine/index.ts'
import { Api, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'
import { act, documentAs } from './helpers/flows.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)

type Step = [user: string, step: string, body: { route: string; nextHandler?: string; data?: Record<string, unknown> }]
type Case = { flow: string; step: string; route: string; path: Step[]; expect: [user: string, step: string] | 'completed' }

const start: Record<string, () => Promise<string>> = {
  fawen: () => startFawen(api),
  fenwen: async () => (await api.as('fengxue').post('/documents', { kind: 'shouwen', data: { title: '关于开展校园安全检查的函', sourceUnit: '柳州市应急管理局', urgency: '平件' } })).body.id,
  chengyue: async () => (await api.as('zhangwei').post('/documents', { kind: 'chengyue', data: { title: '关于安全检查情况的呈阅件', body: '呈阅。', urgency: '平件' } })).body.id,
}

// Paths to each step, as [who, step, what they do].
const toShenhe: Step[] = [['zhangwei', 'nigao', { route: '送审核', nextHandler: 'lina' }]]
const toChushen: Step[] = [...toShenhe, ['lina', 'shenhe', { route: '送下一审核', nextHandler: 'chenjing' }]]
const toFushen: Step[] = [...toChushen, ['chenjing', 'chushen', { route: '送下一审核', nextHandler: 'zhaolei' }]]
const countersign = { countersignDepartments: ['liuzhou-gov-zonghe'] }
const toHuiqian: Step[] = [...toShenhe, ['lina', 'shenhe', { route: '送会签', data: countersign }]]
const toQianfa: Step[] = [...toShenhe, ['lina', 'shenhe', { route: '送签发', nextHandler: 'wangqiang' }]]
const toGaizhang: Step[] = [...toQianfa, ['wangqiang', 'qianfa', { route: '签发' }]]
const toNiban: Step[] = [['fengxue', 'dengji', { route: '送拟办' }]]
const instruct = (mode: string) => ({ instructionLeaders: ['zhengyu'], instructionMode: mode, hostDepartment: 'liuzhou-edu-jichu', assistDepartments: ['liuzhou-edu-jiaoyan'] })
const toPishiSeq: Step[] = [...toNiban, ['wugang', 'niban', { route: '送领导批示', data: instruct('依次') }]]
const toPishiPar: Step[] = [...toNiban, ['wugang', 'niban', { route: '送领导批示', data: instruct('同时') }]]
const toFenban: Step[] = [...toNiban, ['wugang', 'niban', { route: '直接分办', data: { hostDepartment: 'liuzhou-edu-jichu' } }]]
const toBanli: Step[] = [...toPishiSeq, ['zhengyu', 'pishi-seq', { route: '送分办' }], ['wugang', 'fenban', { route: '分办' }]]
const toKeshi: Step[] = [['zhangwei', 'nigao', { route: '送科室负责人', nextHandler: 'lina' }]]
const toBangongshi: Step[] = [...toKeshi, ['lina', 'keshi', { route: '送办公室', nextHandler: 'zhaolei' }]]
const lead = (mode: string) => ({ instructionLeaders: ['sunli'], instructionMode: mode })
const toCyPishiSeq: Step[] = [...toBangongshi, ['zhaolei', 'bangongshi', { route: '送领导批示', data: lead('依次') }]]
const toCyPishiPar: Step[] = [...toBangongshi, ['zhaolei', 'bangongshi', { route: '送领导批示', data: lead('同时') }]]
const toLuoshi: Step[] = [...toCyPishiSeq, ['sunli', 'pishi-seq', { route: '送落实' }]]

const cases: Case[] = [
  { flow: 'fawen', step: 'nigao', route: '送审核', path: [], expect: ['lina', 'shenhe'] },
  { flow: 'fawen', step: 'shenhe', route: '送下一审核', path: toShenhe, expect: ['chenjing', 'chushen'] },
  { flow: 'fawen', step: 'shenhe', route: '送会签', path: toShenhe, expect: ['lina', 'huiqian'] },
  { flow: 'fawen', step: 'shenhe', route: '送签发', path: toShenhe, expect: ['sunli', 'qianfa'] },
  { flow: 'fawen', step: 'shenhe', route: '退回拟稿人', path: toShenhe, expect: ['zhangwei', 'nigao'] },
  { flow: 'fawen', step: 'chushen', route: '送下一审核', path: toChushen, expect: ['zhaolei', 'fushen'] },
  { flow: 'fawen', step: 'chushen', route: '送会签', path: toChushen, expect: ['lina', 'huiqian'] },
  { flow: 'fawen', step: 'chushen', route: '送签发', path: toChushen, expect: ['wangqiang', 'qianfa'] },
  { flow: 'fawen', step: 'chushen', route: '退回拟稿人', path: toChushen, expect: ['zhangwei', 'nigao'] },
  { flow: 'fawen', step: 'fushen', route: '送会签', path: toFushen, expect: ['lina', 'huiqian'] },
  { flow: 'fawen', step: 'fushen', route: '送签发', path: toFushen, expect: ['sunli', 'qianfa'] },
  { flow: 'fawen', step: 'fushen', route: '退回拟稿人', path: toFushen, expect: ['zhangwei', 'nigao'] },
  { flow: 'fawen', step: 'huiqian', route: '会签同意', path: toHuiqian, expect: ['wangqiang', 'qianfa'] },
  { flow: 'fawen', step: 'huiqian', route: '退回拟稿人', path: toHuiqian, expect: ['zhangwei', 'nigao'] },
  { flow: 'fawen', step: 'qianfa', route: '签发', path: toQianfa, expect: ['chenjing', 'gaizhang'] },
  { flow: 'fawen', step: 'qianfa', route: '退回审核', path: toQianfa, expect: ['lina', 'shenhe'] },
  { flow: 'fawen', step: 'gaizhang', route: '用印', path: toGaizhang, expect: 'completed' },
  { flow: 'fenwen', step: 'dengji', route: '送拟办', path: [], expect: ['wugang', 'niban'] },
  { flow: 'fenwen', step: 'niban', route: '送领导批示', path: toNiban, expect: ['zhengyu', 'pishi-seq'] },
  { flow: 'fenwen', step: 'niban', route: '直接分办', path: toNiban, expect: ['wugang', 'fenban'] },
  { flow: 'fenwen', step: 'pishi-seq', route: '送分办', path: toPishiSeq, expect: ['wugang', 'fenban'] },
  { flow: 'fenwen', step: 'pishi-par', route: '送分办', path: toPishiPar, expect: ['wugang', 'fenban'] },
  { flow: 'fenwen', step: 'fenban', route: '分办', path: toFenban, expect: ['tanglin', 'zhuban'] },
  { flow: 'fenwen', step: 'zhuban', route: '送回', path: toBanli, expect: ['wugang', 'fenban'] },
  { flow: 'fenwen', step: 'zhuban', route: '办理完毕', path: [...toBanli, ['songjia', 'xieban', { route: '协办完毕' }]], expect: 'completed' },
  { flow: 'fenwen', step: 'xieban', route: '协办完毕', path: [...toBanli, ['tanglin', 'zhuban', { route: '办理完毕' }]], expect: 'completed' },
  { flow: 'chengyue', step: 'nigao', route: '送科室负责人', path: [], expect: ['zhaolei', 'keshi'] },
  { flow: 'chengyue', step: 'keshi', route: '送办公室', path: toKeshi, expect: ['zhaolei', 'bangongshi'] },
  { flow: 'chengyue', step: 'keshi', route: '退回拟稿人', path: toKeshi, expect: ['zhangwei', 'nigao'] },
  { flow: 'chengyue', step: 'bangongshi', route: '送领导批示', path: toBangongshi, expect: ['sunli', 'pishi-seq'] },
  { flow: 'chengyue', step: 'bangongshi', route: '退回拟稿人', path: toBangongshi, expect: ['zhangwei', 'nigao'] },
  { flow: 'chengyue', step: 'pishi-seq', route: '送落实', path: toCyPishiSeq, expect: ['zhangwei', 'luoshi'] },
  { flow: 'chengyue', step: 'pishi-par', route: '送落实', path: toCyPishiPar, expect: ['zhangwei', 'luoshi'] },
  { flow: 'chengyue', step: 'luoshi', route: '办结', path: toLuoshi, expect: 'completed' },
]
const who: Record<string, string> = { fawen: 'zhangwei', fenwen: 'fengxue', chengyue: 'zhangwei' }
const firstUser: Record<string, Record<string, string>> = { fawen: { nigao: 'zhangwei' }, fenwen: { dengji: 'fengxue' }, chengyue: { nigao: 'zhangwei' } }

t.test('every route of every user task has a case', async (t) => {
  for (const flow of ['fawen', 'fenwen', 'chengyue']) {
    const model = await parseModel(readFileSync(join(import.meta.dirname, '..', 'processes', `${flow}.bpmn`), 'utf8'))
    for (const task of model.userTasks.values()) {
      for (const r of task.routes) {
        if (flow === 'fenwen' && task.id === 'qianshou') continue // 签收 starts from 分发: see cross-unit.test.ts
        t.ok(cases.some((c) => c.flow === flow && c.step === task.id && c.route === r.name), `${flow} ${task.id} ${r.name}`)
      }
    }
  }
})

for (const c of cases) {
  t.test(`${c.flow}: ${c.step} —${c.route}→ ${c.expect === 'completed' ? '办结' : c.expect[1]}`, async (t) => {
    const id = await start[c.flow]()
    for (const [user, step, body] of c.path) await act(api, user, id, step, body)
    const actor = c.path.length ? null : firstUser[c.flow][c.step]
    const user = actor ?? nextUserFor(c)
    await act(api, user, id, c.step, { route: c.route, ...(c.route === '送会签' ? { data: countersign } : {}), ...routeData(c) })
    if (c.expect === 'completed') {
      await waitFor('办结', async () => (await documentAs(api, who[c.flow], id)).status === 'completed')
      t.pass('the flow ended')
    } else {
      const [expectedUser, expectedStep] = c.expect
      t.ok(await taskFor(api, expectedUser, id, expectedStep), `${expectedUser} has ${expectedStep}`)
    }
  })
}

/** Who holds the step at the end of the case's path: the person named by the path's last step. */
function nextUserFor(c: Case): string {
  const handlers: Record<string, string> = {
    'fawen:shenhe': 'lina', 'fawen:chushen': 'chenjing', 'fawen:fushen': 'zhaolei', 'fawen:huiqian': 'lina', 'fawen:qianfa': 'wangqiang', 'fawen:gaizhang': 'chenjing',
    'fenwen:niban': 'wugang', 'fenwen:pishi-seq': 'zhengyu', 'fenwen:pishi-par': 'zhengyu', 'fenwen:fenban': 'wugang', 'fenwen:zhuban': 'tanglin', 'fenwen:xieban': 'songjia',
    'chengyue:keshi': 'lina', 'chengyue:bangongshi': 'zhaolei', 'chengyue:pishi-seq': 'sunli', 'chengyue:pishi-par': 'sunli', 'chengyue:luoshi': 'zhangwei',
  }
  return handlers[`${c.flow}:${c.step}`]
}

/** Data and chosen handlers a route needs to be taken as the case expects. */
function routeData(c: Case): { nextHandler?: string; data?: Record<string, unknown> } {
  const key = `${c.flow}:${c.step}:${c.route}`
  const table: Record<string, { nextHandler?: string; data?: Record<string, unknown> }> = {
    'fawen:nigao:送审核': { nextHandler: 'lina' },
    'fawen:shenhe:送下一审核': { nextHandler: 'chenjing' },
    'fawen:shenhe:送签发': { nextHandler: 'sunli' },
    'fawen:chushen:送下一审核': { nextHandler: 'zhaolei' },
    'fawen:chushen:送签发': { nextHandler: 'wangqiang' },
    'fawen:fushen:送签发': { nextHandler: 'sunli' },
    'fenwen:dengji:送拟办': { nextHandler: 'wugang' },
    'fenwen:niban:送领导批示': { data: instruct('依次') },
    'fenwen:niban:直接分办': { data: { hostDepartment: 'liuzhou-edu-jichu' } },
    'chengyue:nigao:送科室负责人': { nextHandler: 'zhaolei' },
    'chengyue:keshi:送办公室': { nextHandler: 'zhaolei' },
    'chengyue:bangongshi:送领导批示': { data: lead('依次') },
  }
  return table[key] ?? {}
}

t.test('退回 reaches each earlier step and its handler', async (t) => {
  for (const target of ['chushen', 'shenhe', 'nigao']) {
    const id = await startFawen(api)
    for (const [user, step, body] of toFushen) await act(api, user, id, step, body)
    const fushen = await taskFor(api, 'zhaolei', id, 'fushen')
    const detail = await api.as('zhaolei').get(`/tasks/${fushen.taskKey}`)
    const to = detail.body.returnTargets.find((r: { step: string }) => r.step === target)
    const res = await api.as('zhaolei').post(`/tasks/${fushen.taskKey}/return`, { toTaskKey: to.taskKey, opinion: '请修改' })
    t.equal(res.status, 200, `退回 to ${target}`)
    t.ok(await taskFor(api, to.handlerId, id, target), `${to.handlerId} has ${target} again`)
  }
})
