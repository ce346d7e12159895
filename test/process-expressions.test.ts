// The expression grammar of a unit's model: every expression of the shipped models is allowed, the
// allowed calls are exactly the ones those models make, and anything reaching past variables — other
// methods, properties, engine objects, functions, #{…}, arithmetic — is refused with the reason.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { allowedCalls, expressionProblem } from '../engine/operaton/expressions.ts'

const dir = join(import.meta.dirname, '..', 'processes')
const shipped = readdirSync(dir).filter((f) => f.endsWith('.bpmn')).map((f) => readFileSync(join(dir, f), 'utf8'))
const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
const expressions = [...new Set(shipped.flatMap((xml) => [...xml.matchAll(/[$#]\{[^}]*\}/g)].map((m) => unescape(m[0]))))]

t.test('every expression of the shipped models is allowed', async (t) => {
  t.ok(expressions.length > 10, `${expressions.length} distinct expressions`)
  for (const e of expressions) t.equal(expressionProblem(e), null, e)
})

t.test('the allowed calls are exactly those the shipped models make', async (t) => {
  const calls = new Set(expressions.flatMap((e) => [...e.matchAll(/([A-Za-z_]\w*)\.([A-Za-z_]\w*)\s*\(/g)].map((m) => `${m[1]}.${m[2]}`)))
  t.same([...calls].sort(), Object.keys(allowedCalls).sort())
  const set = new Set(expressions.flatMap((e) => [...e.matchAll(/execution\.setVariable\(\s*'([^']+)'/g)].map((m) => m[1])))
  t.same([...set].sort(), [...allowedCalls['execution.setVariable']].sort())
})

t.test('variables, literals, comparisons, logic, empty and ?: are allowed, also inside text', async (t) => {
  for (const e of ["${a}", "${not empty a and b ne 'x'}", "${a > 3 && a <= -2.5}", "${(a || !b) ? 'x' : \"y\"}", "dept_head@${department}", "${a == 'it\\'s'}", "${true ? json.list(a) : null}", 'no expression at all']) {
    t.equal(expressionProblem(e), null, e)
  }
})

t.test('anything that reaches past variables is refused, saying why', async (t) => {
  const refused: Array<[string, RegExp]> = [
    ['${execution.getProcessEngineServices()}', /不能调用方法 execution\.getProcessEngineServices\(\)/],
    ['${execution.getProcessEngineServices().getRuntimeService()}', /不能调用方法 execution\.getProcessEngineServices\(\)/],
    ['${execution.processEngineServices}', /不能读取属性“execution\.processEngineServices”/],
    ['${task.assignee}', /不能读取属性“task\.assignee”/],
    ['${execution}', /不能引用引擎对象“execution”/],
    ['${runtimeService}', /不能引用引擎对象“runtimeService”/],
    ['${processEngine}', /不能引用引擎对象/],
    ['#{route}', /#\{…\}/],
    ['${json.toString()}', /不能调用方法 json\.toString\(\)/],
    ['${json.list(a).get(0)}', /不能在 json\.list\(\) 的结果上/],
    ["${json.list('a')}", /只能用于一个变量/],
    ["${execution.setVariable('documentId', 'x')}", /只能设置 countersignReturned/],
    ["${execution.setVariable('countersignReturned', json.list(a))}", /不能再调用方法/],
    ['${execution.getVariable(name)}', /只能读取以字符串写出的变量名/],
    ["${execution.getVariable('countersignReturned').class}", /不能在 execution\.getVariable\(\) 的结果上/],
    ['${now()}', /不能调用函数 now\(\)/],
    ["${fn:concat('a', 'b')}", /不能调用函数 fn:concat\(\)/],
    ["${''.getClass()}", /不能在常量或括号的结果上/],
    ['${a[0]}', /不能按下标读取/],
    ['${a.b}', /不能读取属性“a\.b”/],
    ['${a + 1}', /不能使用运算符“\+”/],
    ['${x instanceof y}', /instanceof/],
    ['${route == }', /表达式不完整/],
    ["${'open}", /没有结束引号/],
    ['${a', /缺少结束/],
    ['ok ${a} then ${execution.id}', /execution\.id/],
  ]
  for (const [e, reason] of refused) t.match(expressionProblem(e), reason, e)
})
