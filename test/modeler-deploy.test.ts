// Per-unit flow versions over REST: a unit admin deploys a changed 发文 for their unit only; new
// documents of that unit take the new step, documents started before finish on their version,
// another unit neither sees nor uses it, and a model with problems deploys nothing.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import knexFactory from 'knex'
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { Api, draft, startFawen, startStack, taskFor, waitFor } from './helpers/stack.ts'

const stack = await startStack()
const db = knexFactory({ client: 'pg', connection: stack.databaseUrl, pool: { min: 0, max: 2 } })
t.teardown(async () => {
  await db.destroy()
  await stack.close()
})
const api = new Api(stack)
// liuzhou-edu has no unit admin in the demo data: wugang becomes one for these tests.
await db('user_roles').insert({ user_id: 'wugang', role: 'unit_admin' })

const shared = readFileSync(join(import.meta.dirname, '..', 'processes', 'fawen.bpmn'), 'utf8')

/** 发文 with a 复核 step (office_reviewer, 办公室复审 opinion box) between 签发 and 编号. */
function withReview(xml: string, headers = '<zeebe:header key="opinion" value="fushen" />', role = 'office_reviewer') {
  const task = `<bpmn:userTask id="fuhe" name="复核">
      <bpmn:extensionElements>
        <zeebe:userTask />
        <zeebe:formDefinition externalReference="fawen-gaozhi" />
        <zeebe:assignmentDefinition assignee="=if nextHandler != null then nextHandler else &#34;&#34;" candidateGroups="${role}" />
        <zeebe:taskHeaders>${headers}</zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>flow-qianfa-bianhao</bpmn:incoming>
      <bpmn:outgoing>flow-fuhe-bianhao</bpmn:outgoing>
    </bpmn:userTask>
    `
  return xml
    .replace('<bpmn:serviceTask id="bianhao"', `${task}<bpmn:serviceTask id="bianhao"`)
    .replace('<bpmn:incoming>flow-qianfa-bianhao</bpmn:incoming>\n      <bpmn:outgoing>flow-bianhao-gaizhang', '<bpmn:incoming>flow-fuhe-bianhao</bpmn:incoming>\n      <bpmn:outgoing>flow-bianhao-gaizhang')
    .replace('sourceRef="qianfa-route" targetRef="bianhao"', 'sourceRef="qianfa-route" targetRef="fuhe"')
    .replace('</bpmn:process>', '  <bpmn:sequenceFlow id="flow-fuhe-bianhao" name="复核完毕" sourceRef="fuhe" targetRef="bianhao" />\n  </bpmn:process>')
}

const flows = async (user: string) => {
  const res = await api.as(user).get('/processes')
  if (res.status !== 200) throw new Error(`GET /processes as ${user}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as Array<{ baseId: string; processId: string; versions: Array<{ key: string; scope: string; version: number; current: boolean; runningCount: number; running: Array<{ id: string }> }> }>
}
const fawenOf = async (user: string) => (await flows(user)).find((f) => f.baseId === 'fawen')!

/** Walks a 发文 from 拟稿 through 签发; returns once 签发 is completed. */
async function throughSigning(id: string) {
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
}

async function finished(id: string) {
  return waitFor(`document ${id} completed`, async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  }, 60_000)
}

t.test('only a unit admin of the caller’s unit manages flows', async (t) => {
  const list = await flows('zhouadmin')
  t.same(list.map((f) => f.baseId), ['fawen', 'chengyue'], '发文 and 呈阅笺 can be customised; 分文报批 cannot')
  t.same(list[0].versions.map((v) => [v.scope, v.current]), [['shared', true]], 'at first only the shared version, in use')
  t.equal((await api.as('zhangwei').get('/processes')).status, 403, 'a drafter may not')
  t.equal((await api.as('zhangwei').post('/processes/fawen/lint', { xml: shared })).status, 403)
  t.equal((await api.call('GET', '/processes', { apiKey: 'demo-key-liuzhou-gov' })).status, 403, 'nor an integrator')
  const fenwen = await api.as('zhouadmin').post('/processes/fenwen/deploy', { xml: shared })
  t.equal(fenwen.status, 400, '分文报批 is shared by all units')
  t.equal(fenwen.body.details[0].field, 'baseId')
  t.equal((await api.as('zhouadmin').post('/processes/nosuch/deploy', { xml: shared })).status, 404)
})

t.test('a model with problems answers 400 naming each element and deploys nothing', async (t) => {
  // an editable field that is not in the 笺, a role that does not exist, a step writing documentId
  const broken = withReview(shared, '<zeebe:header key="editable" value="title,secretField" />', 'boss')
    .replace('<zeebe:taskDefinition type="document.number" retries="5" />', '<zeebe:taskDefinition type="document.number" retries="5" /><zeebe:ioMapping><zeebe:input source="=&#34;x&#34;" target="documentId" /></zeebe:ioMapping>')
  const lint = await api.as('zhouadmin').post('/processes/fawen/lint', { xml: broken })
  t.equal(lint.status, 200)
  const fields = lint.body.problems.map((p: { field: string }) => p.field)
  t.ok(fields.includes('fuhe.secretField'), 'the editable field not in the 笺')
  t.ok(fields.includes('fuhe.role'), 'the unknown role')
  t.ok(fields.includes('bianhao'), 'the step overwriting documentId')
  t.ok(lint.body.problems.every((p: { message: string }) => /[\u4e00-\u9fa5]/.test(p.message)), 'messages are in Chinese')

  const deploy = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: broken })
  t.equal(deploy.status, 400)
  t.same(deploy.body.details.map((p: { field: string }) => p.field).sort(), [...fields].sort(), 'deploy reports the same problems')
  const compat = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: shared.replace('=route = "签发"', '=route = ') })
  t.equal(compat.status, 400, 'a FEEL error found by the Zeebe 8.6 rules is refused too')
  t.ok(compat.body.details.some((p: { field: string; message: string }) => p.field === 'flow-qianfa-bianhao' && p.message.includes('Zeebe 8.6')), JSON.stringify(compat.body.details))
  t.equal((await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: '<not-bpmn' })).status, 400)
  t.same((await fawenOf('zhouadmin')).versions.map((v) => v.scope), ['shared'], 'no version was added')
  t.equal(await db('process_definitions').where({ unit_id: 'liuzhou-gov' }).count('* as n').first().then((r) => Number(r!.n)), 0)
})

t.test('a deployed 发文 with a 复核 step is used by new documents of the unit only; earlier ones finish without it', async (t) => {
  // given a document started on the shared version
  const before = await startFawen(api, 'zhangwei', draft({ title: '部署前起草的通知' }))
  await taskFor(api, 'zhangwei', before, 'nigao')

  // when the unit admin deploys 发文 with a 复核 step for liuzhou-gov
  const deployed = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: withReview(shared) })
  t.equal(deployed.status, 201, JSON.stringify(deployed.body))
  t.equal(deployed.body.version, 1)
  t.equal(deployed.body.processId, 'fawen--liuzhou-gov', 'deployed under the unit’s process id')
  const xml = await api.as('zhouadmin').get(`/processes/${deployed.body.processDefinitionKey}/xml`)
  t.equal(xml.status, 200)
  t.match(xml.body, /<bpmn:process id="fawen--liuzhou-gov"/, 'the stored XML carries the unit’s process id')

  // then a new document of the unit starts on the unit's version
  const after = await startFawen(api, 'zhangwei', draft({ title: '部署后起草的通知' }))
  await taskFor(api, 'zhangwei', after, 'nigao')
  const gov = await fawenOf('zhouadmin')
  t.equal(gov.processId, 'fawen--liuzhou-gov')
  const unitVersion = gov.versions.find((v) => v.scope === 'unit')!
  const sharedVersion = gov.versions.find((v) => v.scope === 'shared')!
  t.ok(unitVersion.current && !sharedVersion.current, 'the unit’s version is the one in use')
  t.same(unitVersion.running.map((d) => d.id), [after], 'the new document runs on the unit’s version')
  t.same(sharedVersion.running.map((d) => d.id), [before], 'the earlier one stays on the shared version')

  // and another unit neither sees the version nor uses it
  const edu = await fawenOf('wugang')
  t.same(edu.versions.map((v) => v.scope), ['shared'], 'liuzhou-edu sees only the shared version')
  t.equal((await api.as('wugang').get(`/processes/${deployed.body.processDefinitionKey}/xml`)).status, 404, 'nor can it read liuzhou-gov’s XML')
  const eduDoc = await startFawen(api, 'huangmei', draft({ title: '教育局的通知', mainRecipients: ['liuzhou-gov'], ccRecipients: [] }))
  await taskFor(api, 'huangmei', eduDoc, 'nigao')
  t.same((await fawenOf('wugang')).versions[0].running.map((d) => d.id), [eduDoc], 'its new document runs on the shared version')

  // the new document goes through 复核 (the opinion box makes an opinion required)
  await throughSigning(after)
  const review = await taskFor(api, 'chenjing', after, 'fuhe')
  const noOpinion = await api.as('chenjing').post(`/tasks/${review.taskKey}/complete`, { route: '复核完毕', opinion: '' })
  t.equal(noOpinion.status, 400, 'the 复核 step asks for an opinion')
  await act(api, 'chenjing', after, 'fuhe', { route: '复核完毕', opinion: '已复核，可以编号' })
  await act(api, 'chenjing', after, 'gaizhang', { route: '用印' })
  const afterDoc = await finished(after)
  t.ok(afterDoc.log.some((e: { step: string; opinion: string }) => e.step === 'fuhe' && e.opinion === '已复核，可以编号'), '复核 is in its routing log')

  // the document started before finishes on its version, without 复核
  await throughSigning(before)
  await act(api, 'chenjing', before, 'gaizhang', { route: '用印' })
  const beforeDoc = await finished(before)
  t.notOk(beforeDoc.log.some((e: { step: string }) => e.step === 'fuhe'), 'no 复核 in the earlier document’s log')
  t.ok(beforeDoc.log.some((e: { step: string }) => e.step === 'gaizhang'), 'it went straight from 签发 to 编号 and 盖章')

  // a second deploy makes version 2 of the unit's flow
  const again = await api.as('zhouadmin').post('/processes/fawen/deploy', { xml: withReview(shared).replace('name="复核"', 'name="办公室复核"') })
  t.equal(again.status, 201)
  t.equal(again.body.version, 2)
  t.same((await fawenOf('zhouadmin')).versions.map((v) => [v.scope, v.version, v.current]), [['unit', 2, true], ['unit', 1, false], ['shared', 1, false]])
})

t.test('another unit’s admin customises its 呈阅笺 for itself only', async (t) => {
  const chengyue = readFileSync(join(import.meta.dirname, '..', 'processes', 'chengyue.bpmn'), 'utf8')
  const deployed = await api.as('wugang').post('/processes/chengyue/deploy', { xml: chengyue.replace('name="呈阅笺"', 'name="教育局呈阅笺"') })
  t.equal(deployed.status, 201, JSON.stringify(deployed.body))
  t.equal(deployed.body.processId, 'chengyue--liuzhou-edu')
  const start = (user: string) => api.as(user).post('/documents', { kind: 'chengyue', data: { title: '关于安全检查情况的呈阅件', body: '呈阅。', urgency: '平件' } })
  const edu = await start('huangmei')
  const gov = await start('zhangwei')
  t.equal(edu.status, 201)
  const versions = async (user: string) => (await flows(user)).find((f) => f.baseId === 'chengyue')!.versions
  await waitFor('both documents running', async () => (await versions('wugang')).some((v) => v.runningCount > 0) && (await versions('zhouadmin')).some((v) => v.runningCount > 0))
  t.same((await versions('wugang')).map((v) => [v.scope, v.running.map((d) => d.id)]), [['unit', [edu.body.id]], ['shared', []]], 'liuzhou-edu’s new 呈阅笺 runs on its own version')
  t.same((await versions('zhouadmin')).map((v) => [v.scope, v.running.map((d) => d.id)]), [['shared', [gov.body.id]]], 'liuzhou-gov neither sees it nor uses it')
})
