// 加签 in a real browser: the handler adds a signer before herself on the task page, the signer
// signs (and is offered no 办理 panel), and the tracking diagram marks the added signer at the step.
import t from 'tap'
import { startFawen, taskFor } from './helpers/stack.ts'
import { act } from './helpers/flows.ts'
import { startBrowserStack } from './helpers/browser.ts'

const { stack, ui, api } = await startBrowserStack()

t.test('前加签 on the task page, signed by the added signer, shown on the tracking diagram', async (t) => {
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const task = await taskFor(api, 'lina', id, 'shenhe')

  // the handler adds 赵磊 before herself
  const ln = await ui.as('lina')
  await ln.goto(`/app/task/${task.taskKey}`)
  await ln.click('button.add-signer-open')
  const form = ln.locator('form[aria-label="加签"]')
  await form.locator('input[name=addSignerMode][value=before]').check()
  await form.locator('select[name=addSigner]').selectOption('zhaolei')
  await form.locator('button[type=submit]').click()
  await ln.locator('.alert.ok').filter({ hasText: /已加签/ }).waitFor()

  // the signer sees the task with a 签署 form only
  await taskFor(api, 'zhaolei', id, 'shenhe')
  const zl = await ui.as('zhaolei')
  await zl.goto('/app/inbox')
  await zl.click(`tr[data-task="${task.taskKey}"] .title-cell a`)
  const sign = zl.locator('form[aria-label="加签签署"]')
  await sign.waitFor()
  t.equal(await zl.locator('form[aria-label="办理"]').count(), 0, 'no 办理 panel for the added signer')
  await sign.locator('textarea[name=signOpinion]').fill('同意，建议压缩篇幅')
  await sign.locator('button[type=submit]').click()
  await zl.locator('.alert.ok').filter({ hasText: /已签署/ }).waitFor()
  await taskFor(api, 'lina', id, 'shenhe')

  // the tracking diagram marks the added signer at 科室审核, and the log has the step
  const zw = await ui.as('zhangwei')
  await zw.goto(`/app/track/${id}`)
  await zw.locator('.diagram[data-ready=true]').waitFor()
  const note = zw.locator('.gw-signers[data-step=shenhe]')
  await note.waitFor()
  t.match(await note.textContent(), /加签：赵磊（前加签，已签）/)
  t.match(await zw.locator('.log').textContent(), /加签签署[\s\S]*同意，建议压缩篇幅/)
  await ui.screenshot(zw, 'jiaqian-track')
  t.same(ui.errors, [], 'no script errors')
})

t.test('并行加签 on the task page: both hold a task, the handler waits for the signature, then sends the step on', async (t) => {
  const id = await startFawen(api)
  await act(api, 'zhangwei', id, 'nigao', { route: '送审核', nextHandler: 'lina' })
  const task = await taskFor(api, 'lina', id, 'shenhe')

  const ln = await ui.as('lina')
  await ln.goto(`/app/task/${task.taskKey}`)
  await ln.click('button.add-signer-open')
  const form = ln.locator('form[aria-label="加签"]')
  await form.locator('input[name=addSignerMode][value=parallel]').check()
  await form.locator('select[name=addSigner]').selectOption('zhaolei')
  await form.locator('button[type=submit]').click()
  await ln.locator('.alert.ok').filter({ hasText: /已并行加签/ }).waitFor()
  await ln.goto(`/app/task/${task.taskKey}`)
  await ln.locator('.gw-parallel-pending').filter({ hasText: /待赵磊签署/ }).waitFor()

  const signer = await taskFor(api, 'zhaolei', id, 'shenhe')
  t.not(signer.taskKey, task.taskKey, 'the signer has a task of their own')
  const zl = await ui.as('zhaolei')
  await zl.goto(`/app/task/${signer.taskKey}`)
  const sign = zl.locator('form[aria-label="加签签署"]')
  await sign.waitFor()
  t.equal(await zl.locator('form[aria-label="办理"]').count(), 0, 'no 办理 panel for the added signer')
  await sign.locator('textarea[name=signOpinion]').fill('同意并行')
  await sign.locator('button[type=submit]').click()
  await zl.locator('.alert.ok').filter({ hasText: /已签署/ }).waitFor()

  await act(api, 'lina', id, 'shenhe', { route: '送签发', opinion: '同意' })
  await taskFor(api, 'wangqiang', id, 'qianfa')
  const zw = await ui.as('zhangwei')
  await zw.goto(`/app/track/${id}`)
  await zw.locator('.diagram[data-ready=true]').waitFor()
  const note = zw.locator('.gw-signers[data-step=shenhe]')
  await note.waitFor()
  t.match(await note.textContent(), /加签：赵磊（并行加签，已签）/)
  t.match(await zw.locator('.log').textContent(), /并行加签[\s\S]*加签签署[\s\S]*同意并行/)
  t.same(ui.errors, [], 'no script errors')
})
