// The unit admin's departments and people over REST: validated, unit-scoped, admin only; a person
// added here logs in with the password given and acts with the roles given.
import t from 'tap'
import { Api, startStack } from './helpers/stack.ts'

const stack = await startStack()
t.teardown(() => stack.close())
const api = new Api(stack)
const admin = api.as('zhouadmin')
const patch = (as: string, path: string, body: unknown) => api.call('PATCH', path, { as, body })

t.test('only a unit admin reads and changes the directory', async (t) => {
  for (const path of ['/admin/departments', '/admin/people']) {
    t.equal((await api.as('zhangwei').get(path)).status, 403, `a drafter may not GET ${path}`)
    t.equal((await api.call('GET', path, { apiKey: 'demo-key-liuzhou-gov' })).status, 403, `nor an integrator ${path}`)
  }
  t.equal((await api.as('hejun').post('/admin/departments', { name: '新科室' })).status, 403, 'holding every staff role is not enough')
  const departments = await admin.get('/admin/departments')
  t.equal(departments.status, 200)
  t.same(departments.body.map((d: { name: string }) => d.name).sort(), ['办领导', '秘书科', '综合科'].sort(), 'the admin’s own unit only')
  const people = await admin.get('/admin/people')
  t.ok(people.body.some((p: { id: string; roles: string[] }) => p.id === 'zhaolei' && p.roles.join() === 'dept_head,office_head'))
  t.notOk(people.body.some((p: { id: string }) => p.id === 'huangmei'), 'no one of another unit')
  t.ok(people.body.find((p: { id: string }) => p.id === 'liuzhou-gov-api').integrator, 'the integrator account is marked')
})

t.test('departments are added and renamed; names are checked', async (t) => {
  const added = await admin.post('/admin/departments', { name: ' 法规科 ' })
  t.equal(added.status, 201, JSON.stringify(added.body))
  t.equal(added.body.name, '法规科', 'the name is trimmed')
  const dup = await admin.post('/admin/departments', { name: '综合科' })
  t.equal(dup.status, 400)
  t.same(dup.body.details.map((d: { field: string }) => d.field), ['name'])
  t.equal((await admin.post('/admin/departments', { name: '   ' })).status, 400, 'a blank name is refused')
  const renamed = await patch('zhouadmin', `/admin/departments/${added.body.id}`, { name: '法规与督查科' })
  t.equal(renamed.status, 200)
  t.equal(renamed.body.name, '法规与督查科')
  t.equal((await patch('zhouadmin', '/admin/departments/liuzhou-edu-jichu', { name: '改名' })).status, 404, 'another unit’s department answers 404')
  t.equal((await patch('zhouadmin', `/admin/departments/${added.body.id}`, { name: '秘书科' })).status, 400, 'renaming onto a taken name is refused')
})

t.test('a person is added with department, password and roles, logs in and acts with them', async (t) => {
  const departments = (await admin.get('/admin/departments')).body as Array<{ id: string; name: string }>
  const zonghe = departments.find((d) => d.name === '综合科')!.id
  const bad = await admin.post('/admin/people', { username: 'X', name: '', departmentId: 'liuzhou-edu-jichu', password: 'short', roles: ['boss'] })
  t.equal(bad.status, 400)
  t.ok(['username', 'name', 'password'].every((f) => bad.body.details.some((d: { field: string }) => d.field === f)), JSON.stringify(bad.body.details))
  const otherUnit = await admin.post('/admin/people', { username: 'xiaoli', name: '小李', departmentId: 'liuzhou-edu-jichu', password: 'mima12345', roles: [] })
  t.equal(otherUnit.status, 400, 'a department of another unit is refused')
  t.equal(otherUnit.body.details[0].field, 'departmentId')
  const unknownRole = await admin.post('/admin/people', { username: 'xiaoli', name: '小李', departmentId: zonghe, password: 'mima12345', roles: ['boss'] })
  t.equal(unknownRole.status, 400)
  t.equal(unknownRole.body.details[0].field, 'roles')
  const taken = await admin.post('/admin/people', { username: 'huangmei', name: '黄梅', departmentId: zonghe, password: 'mima12345', roles: [] })
  t.equal(taken.status, 400, 'usernames are unique across units')
  t.equal(taken.body.details[0].field, 'username')

  const added = await admin.post('/admin/people', { username: 'xiaoli', name: '小李', departmentId: zonghe, password: 'mima12345', roles: ['drafter'] })
  t.equal(added.status, 201, JSON.stringify(added.body))
  t.same([added.body.id, added.body.department, added.body.roles], ['xiaoli', '综合科', ['drafter']])
  const login = await api.call('POST', '/auth/login', { body: { username: 'xiaoli', password: 'mima12345' } })
  t.equal(login.status, 200, 'the new person logs in with the password given')
  const token = login.body.token as string
  const headers = { authorization: `Bearer ${token}` }
  const me = await api.call('GET', '/me', { headers })
  t.equal(me.body.unitId, 'liuzhou-gov')

  // roles: the list is replaced; a new role takes effect on the next request
  const asLeader = await patch('zhouadmin', '/admin/people/xiaoli', { roles: ['leader'] })
  t.same(asLeader.body.roles, ['leader'])
  const start = await api.call('POST', '/documents', { headers, body: { kind: 'fawen', data: { title: '测试', docKind: '通知', mainRecipients: [], urgency: '平件', publicity: '主动公开', body: '正文' } } })
  t.equal(start.status, 403, 'without drafter the person can no longer draft')
  t.ok((await api.as('zhangwei').get('/people?role=leader')).body.some((p: { id: string }) => p.id === 'xiaoli'), 'and is now offered as a leader')

  const moved = await patch('zhouadmin', '/admin/people/xiaoli', { name: '李晓', departmentId: departments.find((d) => d.name === '秘书科')!.id, password: 'xinmima123' })
  t.same([moved.status, moved.body.name, moved.body.department], [200, '李晓', '秘书科'])
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'xiaoli', password: 'mima12345' } })).status, 401, 'the old password no longer works')
  t.equal((await api.call('POST', '/auth/login', { body: { username: 'xiaoli', password: 'xinmima123' } })).status, 200, 'the new one does')

  t.equal((await patch('zhouadmin', '/admin/people/huangmei', { roles: ['unit_admin'] })).status, 404, 'another unit’s person answers 404')
  t.same((await api.as('huangmei').get('/people/huangmei')).body.roles, ['drafter'], 'and is unchanged')
  const self = await patch('zhouadmin', '/admin/people/zhouadmin', { roles: ['drafter'] })
  t.equal(self.status, 400, 'an admin cannot drop their own admin role')
  t.equal((await patch('zhouadmin', '/admin/people/liuzhou-gov-api', { password: 'mima12345' })).status, 400, 'an integrator account gets no password')
})
