// The modeler in Debian's chromium against the real server, engine and database: a unit admin adds
// a 复核 step to 发文, binds it from the step panel's lists (written as camunda: attributes and
// properties) and deploys it as the unit's next version; a new document goes through 复核 while one
// started before finishes without it; a broken binding or a disallowed expression shows its
// problem on the diagram and deploys nothing.
import { copyFileSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { act, documentAs } from './helpers/flows.ts'
import { screenshotDir, startBrowserStack } from './helpers/browser.ts'
import { draft, startFawen, taskFor, waitFor } from './helpers/stack.ts'

const { stack, ui, api } = await startBrowserStack()
const docsShot = join(import.meta.dirname, '..', 'docs', 'screenshots', 'ui-modeler.png')

const unitVersions = async () => {
  const res = await api.as('zhouadmin').get('/processes')
  return res.body.find((f: { baseId: string }) => f.baseId === 'fawen').versions.filter((v: { scope: string }) => v.scope === 'unit') as Array<{ key: string; version: number }>
}

async function finished(id: string) {
  return waitFor(`document ${id} completed`, async () => {
    const doc = await documentAs(api, 'zhangwei', id)
    return doc.status === 'completed' && doc
  }, 60_000)
}

async function throughSigning(id: string) {
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  await act(api, 'lina', id, 'shenhe', { route: '送签发' })
  await act(api, 'wangqiang', id, 'qianfa', { route: '签发' })
}

/** Clicks 校验 and waits for its verdict; the problems listed, if any, make the failure say why. */
async function lintPasses(page: Awaited<ReturnType<typeof openModeler>>) {
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/lint')), page.click('#lint')])
  const { problems } = (await res.json()) as { problems: Array<{ field: string; message: string }> }
  if (problems.length) throw new Error(`校验 found problems: ${problems.map((p) => `${p.field}: ${p.message}`).join(' | ')}`)
  await page.getByText('校验通过，可以部署。').waitFor()
}

async function openModeler() {
  const page = await ui.as('zhouadmin')
  await page.goto('/app/modeler')
  await page.locator('.modeler-canvas[data-ready="true"]').waitFor()
  return page
}

t.test('an admin adds a 复核 step to 发文 in the modeler and deploys it for the unit', async (t) => {
  // given a document started on the standard 发文
  const before = await startFawen(api, 'zhangwei', draft({ title: '部署前起草的通知' }))
  await taskFor(api, 'zhangwei', before, 'nigao')
  const page = await openModeler()
  t.equal(await page.locator('.versions-table tr[data-scope="standard"] .running-count').textContent(), '1', 'the version list counts it on the standard version')

  // when the admin draws a user task between 签发 and 编号 (through the bpmn-js API) …
  await page.evaluate(() => {
    const m = (window as any).__modeler
    const registry = m.get('elementRegistry')
    const modeling = m.get('modeling')
    const bianhao = registry.get('bianhao')
    const spot = { x: bianhao.x + bianhao.width / 2 + 30, y: bianhao.y + bianhao.height / 2 }
    // make room: everything from 编号 on moves right
    const right = registry.filter((e: any) => !e.waypoints && !e.labelTarget && !e.host && e.parent === bianhao.parent && e.x >= bianhao.x)
    modeling.moveElements(right, { x: 200, y: 0 })
    const task = modeling.createShape({ type: 'bpmn:UserTask' }, spot, bianhao.parent)
    modeling.updateProperties(task, { id: 'fuhe', name: '复核' })
    modeling.reconnectEnd(registry.get('flow-qianfa-bianhao'), task, { x: task.x, y: spot.y })
    const out = modeling.connect(task, bianhao)
    modeling.updateLabel(out, '复核完毕')
    const canvas = m.get('canvas')
    const { outer } = canvas.viewbox()
    canvas.viewbox({ x: spot.x - outer.width * 0.6, y: spot.y - outer.height / 2, width: outer.width, height: outer.height })
    m.get('selection').select(task)
  })
  // … and binds it through the step panel's lists: 笺, role, handler choice, opinion box, field permissions
  await page.locator('.binding-panel[data-element="fuhe"]').waitFor()
  await page.selectOption('#binding-form', 'fawen-gaozhi')
  await page.selectOption('#binding-role', 'office_reviewer')
  await page.check('#binding-chosen')
  await page.selectOption('#binding-opinion', 'fushen')
  await page.selectOption('#perm-title', 'editable')
  await page.selectOption('#perm-publicityReason', 'hidden')
  t.equal(await page.inputValue('#perm-body'), 'readonly', 'a field not chosen stays read-only')
  t.ok(await page.locator('.bio-properties-panel').isVisible(), 'the Camunda 7 properties panel is shown beside it')
  t.ok(await page.locator('.bio-properties-panel [data-group-id="group-CamundaPlatform__UserAssignment"]').count(), 'with its Camunda 7 user assignment group')

  await lintPasses(page)
  await page.evaluate(() => (window as any).__modeler.get('contextPad').close())
  await ui.screenshot(page, 'modeler-step-added')
  await page.screenshot({ path: join(screenshotDir, 'ui-modeler.png') })
  const size = statSync(join(screenshotDir, 'ui-modeler.png')).size
  t.ok(size < 300 * 1024, `the screenshot for the README is under 300 KB (${size} bytes)`)
  if (process.env.UPDATE_README_SCREENSHOTS) {
    mkdirSync(join(import.meta.dirname, '..', 'docs', 'screenshots'), { recursive: true })
    copyFileSync(join(screenshotDir, 'ui-modeler.png'), docsShot)
  }

  await page.click('#deploy')
  await page.getByText('已部署为本单位流程的第 2 版').waitFor()
  t.equal(await page.locator('.versions-table tr[data-scope="unit"]').count(), 1, 'the unit’s version is listed')

  // then the deployed model carries the binding chosen in the panel
  const [unit] = await unitVersions()
  const xml = (await api.as('zhouadmin').get(`/processes/${unit.key}/xml`)).body as string
  const fuhe = xml.slice(xml.indexOf('<bpmn:userTask id="fuhe"'), xml.indexOf('</bpmn:userTask>', xml.indexOf('<bpmn:userTask id="fuhe"')))
  t.match(fuhe, /camunda:formKey="fawen-gaozhi"/)
  t.match(fuhe, /camunda:candidateGroups="office_reviewer"/)
  t.match(fuhe, /camunda:assignee="\$\{empty nextHandler \? null : nextHandler\}"/, 'the previous step picks the handler')
  t.match(fuhe, /<camunda:property name="editable" value="title" \/>/)
  t.match(fuhe, /<camunda:property name="hidden" value="publicityReason" \/>/)
  t.match(fuhe, /<camunda:property name="opinion" value="fushen" \/>/)
  const namespaces = [...xml.matchAll(/\sxmlns:(\w+)="([^"]+)"/g)].map((m) => m[2])
  t.ok(namespaces.every((u) => /omg\.org|w3\.org|camunda\.org\/schema\/(1\.0\/bpmn|modeler)|bpmn\.io/.test(u)), `only BPMN and camunda: namespaces: ${namespaces.join(' ')}`)

  // and a new document of the unit goes through 复核, with the permissions chosen
  const after = await startFawen(api, 'zhangwei', draft({ title: '部署后起草的通知' }))
  await throughSigning(after)
  const review = await taskFor(api, 'chenjing', after, 'fuhe')
  const detail = await api.as('chenjing').get(`/tasks/${review.taskKey}`)
  t.same(detail.body.routes.map((r: { name: string }) => r.name), ['复核完毕'])
  t.ok(detail.body.form.schema.properties.title, '复核 may edit the title')
  t.notOk(detail.body.form.schema.properties.body, 'but not the body')
  // 复核 comes after 签发: what was signed is frozen, whatever the step's binding allows
  const edit = await api.as('chenjing').post(`/tasks/${review.taskKey}/complete`, { route: '复核完毕', opinion: '已复核', data: { title: '部署后起草的通知（复核稿）' } })
  t.equal(edit.status, 409, 'the signed title cannot be changed at 复核')
  t.match(edit.body, { code: 'DOCUMENT_FROZEN', details: [{ field: 'title' }] })
  await act(api, 'chenjing', after, 'fuhe', { route: '复核完毕', opinion: '已复核' })
  await act(api, 'chenjing', after, 'gaizhang', { route: '用印' })
  const afterDoc = await finished(after)
  t.ok(afterDoc.log.some((e: { step: string }) => e.step === 'fuhe'), 'the new document went through 复核')
  t.equal(afterDoc.title, '部署后起草的通知', 'with the title as signed')

  // while the one started before finishes on the standard version, without 复核
  await throughSigning(before)
  await act(api, 'chenjing', before, 'gaizhang', { route: '用印' })
  const beforeDoc = await finished(before)
  t.notOk(beforeDoc.log.some((e: { step: string }) => e.step === 'fuhe'), 'the earlier document finished without 复核')
})

t.test('a broken binding shows the lint error on the diagram and deploys nothing', async (t) => {
  const page = await openModeler()
  t.match(await page.locator('.modeler-head').textContent(), /第 2 版（本单位修改）/, 'the unit’s version opens')
  // an editable field the 笺 does not have, written as a hand-edited property would be
  await page.evaluate(() => {
    const m = (window as any).__modeler
    const task = m.get('elementRegistry').get('fuhe')
    const property = task.businessObject.extensionElements.values.find((v: any) => v.$type === 'camunda:Properties').values.find((p: any) => p.name === 'editable')
    m.get('modeling').updateModdleProperties(task, property, { value: 'title,secretField' })
    m.get('selection').select(task)
  })
  await page.locator('.binding-panel tr.stray').waitFor()
  t.match(await page.locator('.binding-panel tr.stray').textContent(), /secretField（不是此笺的字段）/, 'the step panel flags the field as not in the 笺')

  await page.click('#deploy')
  const problem = page.locator('.problem-list li[data-field="fuhe.secretField"]')
  await problem.waitFor()
  t.match(await problem.textContent(), /secretField.*不是笺“发文稿纸”的字段/)
  const badge = page.locator('.djs-overlays .gw-problem-badge[data-element="fuhe"]')
  t.ok(await badge.isVisible(), 'the problem is shown on the diagram, on the 复核 task')
  t.ok(await page.locator('g.djs-element.gw-invalid[data-element-id="fuhe"]').count(), 'and the task is marked')
  await ui.screenshot(page, 'modeler-lint-error')
  t.same((await unitVersions()).map((v) => v.version), [2], 'nothing was deployed')

  // fixing it in the panel (the stray field set back to read-only) makes the model deployable again
  await page.selectOption('#perm-secretField', 'readonly')
  await lintPasses(page)
  t.equal(await page.locator('.gw-problem-badge').count(), 0, 'the badge is gone')
  t.same(ui.errors, [], 'no script errors on the page')
})

t.test('an assignee expression calling into the engine is marked on its task and deploys nothing', async (t) => {
  const page = await openModeler()
  // typed into the properties panel's assignee field, as an admin would
  await page.evaluate(() => {
    const m = (window as any).__modeler
    m.get('selection').select(m.get('elementRegistry').get('fuhe'))
  })
  await page.locator('.binding-panel[data-element="fuhe"]').waitFor()
  const assignment = page.locator('.bio-properties-panel [data-group-id="group-CamundaPlatform__UserAssignment"]')
  if (!(await assignment.locator('[name="assignee"]').isVisible())) await assignment.locator('.bio-properties-panel-group-header').click()
  await assignment.locator('[name="assignee"]').fill('${execution.getProcessEngineServices().getIdentityService().createUserQuery().list()}')
  await assignment.locator('[name="assignee"]').blur()
  // the panel writes after a short debounce
  await page.waitForFunction(() => /getProcessEngineServices/.test((window as any).__modeler.get('elementRegistry').get('fuhe').businessObject.get('camunda:assignee') ?? ''))

  await page.click('#deploy')
  const problem = page.locator('.problem-list li[data-field="fuhe.assignee"]')
  await problem.waitFor()
  t.match(await problem.textContent(), /不能调用方法 execution\.getProcessEngineServices\(\)/)
  t.ok(await page.locator('.djs-overlays .gw-problem-badge[data-element="fuhe"]').isVisible(), 'the problem is shown on the 复核 task')
  t.same((await unitVersions()).map((v) => v.version), [2], 'nothing was deployed')
  t.same(ui.errors, [], 'no script errors on the page')
})
