// The expressions a unit's model may hold. Camunda 7 expressions (JUEL) can call any method of any
// object in reach — `${execution.getProcessEngineServices()…}` would read other units' data — so a
// unit admin's model may only use a small grammar: variables, literals, comparisons, logic, `empty`,
// `? :`, and the few method calls the shipped models of processes/ make (allowedCalls).

/** The method calls the shipped models make; no other call, property or index access is allowed. */
export const allowedCalls = {
  /** A JSON list variable (the engine has no JSON variable type) as a collection for multi-instance. */
  'json.list': 'a variable',
  /** Reads a variable by its name written as a string: no more than naming the variable (null when unset). */
  'execution.getVariable': 'a name',
  /** Marks whether a 会签 has been sent back; only these flags may be set, to a value computed without calls. */
  'execution.setVariable': ['countersignReturned', 'cosignRejected'],
} as const

/** Objects of the engine's context: never readable on their own (their methods reach the engine). */
const engineObjects = new Set(['execution', 'task', 'externalTask', 'caseExecution', 'variableScope', 'json', 'authentication', 'connector'])
/** Names of the engine's services and beans (runtimeService, processEngine, dataSource, …), which expressions can also reach. */
const engineBean = /(service|services|engine|configuration|context|manager|factory|datasource|template)$/i

type Token =
  | { kind: 'string' | 'number' | 'ident'; text: string; at: number }
  | { kind: 'op'; text: string; at: number }

type Node =
  | { type: 'literal'; value: string | number | boolean | null }
  | { type: 'variable'; name: string }
  | { type: 'call'; object: string; method: string; args: Node[] }
  | { type: 'unary'; op: string; arg: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'conditional'; test: Node; then: Node; else: Node }

class Refused extends Error {}

const allowedText = `只允许 json.list(变量)、execution.getVariable('变量名') 与 execution.setVariable('${allowedCalls['execution.setVariable'].join("'|'")}', 值)`

const words: Record<string, string> = { and: '&&', or: '||', not: '!', eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=' }
const forbiddenWords = new Set(['instanceof', 'div', 'mod'])
const ops = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '?', ':', '(', ')', ',', '.', '[', ']', '+', '-', '*', '/', '%', '}']

/** Reads one `${…}` body from `pos` (just after the `${`) up to its closing brace. */
function tokenize(text: string, pos: number): { tokens: Token[]; end: number } {
  const tokens: Token[] = []
  let i = pos
  while (i < text.length) {
    const c = text[i]
    if (/\s/.test(c)) {
      i++
    } else if (c === "'" || c === '"') {
      let value = ''
      let j = i + 1
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\') {
          const next = text[j + 1]
          if (next !== c && next !== '\\') throw new Refused(`字符串中不支持的转义“\\${next ?? ''}”`)
          j++
        }
        value += text[j]
      }
      if (j >= text.length) throw new Refused('字符串没有结束引号')
      tokens.push({ kind: 'string', text: value, at: i })
      i = j + 1
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!
      tokens.push({ kind: 'number', text: m[0], at: i })
      i += m[0].length
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!
      tokens.push({ kind: 'ident', text: m[0], at: i })
      i += m[0].length
    } else {
      const op = ops.find((o) => text.startsWith(o, i))
      if (!op) throw new Refused(`不支持的符号“${c}”`)
      if (op === '}') return { tokens, end: i + 1 }
      tokens.push({ kind: 'op', text: op, at: i })
      i += op.length
    }
  }
  throw new Refused('表达式缺少结束的“}”')
}

/** Recursive descent over the allowed grammar; anything outside it throws Refused with the reason. */
class Parser {
  private i = 0
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (!this.tokens.length) throw new Refused('表达式为空')
    const node = this.conditional()
    const rest = this.tokens[this.i]
    if (!rest) return node
    if (rest.kind === 'op' && ['+', '-', '*', '/', '%'].includes(rest.text)) throw new Refused(`不能使用运算符“${rest.text}”`)
    if (rest.kind === 'op' && (rest.text === '.' || rest.text === '[')) throw new Refused('不能在常量或括号的结果上调用方法或读取属性')
    if (rest.kind === 'ident' && forbiddenWords.has(rest.text)) throw new Refused(`不能使用“${rest.text}”`)
    throw new Refused(`“${rest.text}”处写法不受支持`)
  }

  private peek(): string | undefined {
    const t = this.tokens[this.i]
    if (!t) return undefined
    return t.kind === 'op' ? t.text : t.kind === 'ident' && words[t.text] ? words[t.text] : t.kind === 'ident' && t.text === 'empty' ? 'empty' : undefined
  }

  private take(op: string): boolean {
    if (this.peek() !== op) return false
    this.i++
    return true
  }

  private expect(op: string) {
    if (!this.take(op)) throw new Refused(`此处应为“${op}”`)
  }

  private conditional(): Node {
    const test = this.binary(0)
    if (!this.take('?')) return test
    const then = this.conditional()
    this.expect(':')
    return { type: 'conditional', test, then, else: this.conditional() }
  }

  private static readonly levels = [['||'], ['&&'], ['==', '!='], ['<', '>', '<=', '>=']]

  private binary(level: number): Node {
    if (level === Parser.levels.length) return this.unary()
    let left = this.binary(level + 1)
    for (let op = this.peek(); op && Parser.levels[level].includes(op); op = this.peek()) {
      this.i++
      left = { type: 'binary', op, left, right: this.binary(level + 1) }
    }
    return left
  }

  private unary(): Node {
    for (const op of ['!', 'empty']) if (this.take(op)) return { type: 'unary', op, arg: this.unary() }
    if (this.peek() === '-' && this.tokens[this.i + 1]?.kind === 'number') {
      this.i++
      return { type: 'literal', value: -Number(this.tokens[this.i++].text) }
    }
    return this.primary()
  }

  private primary(): Node {
    const t = this.tokens[this.i]
    if (!t) throw new Refused('表达式不完整')
    if (this.take('(')) {
      const inner = this.conditional()
      this.expect(')')
      return inner
    }
    this.i++
    if (t.kind === 'string') return { type: 'literal', value: t.text }
    if (t.kind === 'number') return { type: 'literal', value: Number(t.text) }
    if (t.kind === 'op') {
      if (['+', '-', '*', '/', '%'].includes(t.text)) throw new Refused(`不能使用运算符“${t.text}”`)
      throw new Refused(`“${t.text}”处写法不受支持`)
    }
    if (t.text === 'true' || t.text === 'false') return { type: 'literal', value: t.text === 'true' }
    if (t.text === 'null') return { type: 'literal', value: null }
    if (forbiddenWords.has(t.text) || words[t.text] || t.text === 'empty') throw new Refused(`不能使用“${t.text}”`)
    if (this.tokens[this.i]?.text === ':' && this.tokens[this.i + 1]?.kind === 'ident' && this.tokens[this.i + 2]?.text === '(') {
      throw new Refused(`不能调用函数 ${t.text}:${this.tokens[this.i + 1].text}()`)
    }
    if (this.take('(')) throw new Refused(`不能调用函数 ${t.text}()`)
    if (this.take('[')) throw new Refused(`不能按下标读取“${t.text}[…]”`)
    if (!this.take('.')) {
      if (engineObjects.has(t.text) || engineBean.test(t.text)) throw new Refused(`不能引用引擎对象“${t.text}”`)
      return { type: 'variable', name: t.text }
    }
    const member = this.tokens[this.i++]
    if (member?.kind !== 'ident') throw new Refused(`“${t.text}.”之后应为名称`)
    const path = `${t.text}.${member.text}`
    if (!this.take('(')) throw new Refused(`不能读取属性“${path}”（只能引用变量本身）`)
    if (!(path in allowedCalls)) throw new Refused(`不能调用方法 ${path}()（${allowedText}）`)
    const args: Node[] = []
    if (!this.take(')')) {
      do args.push(this.conditional())
      while (this.take(','))
      this.expect(')')
    }
    if (this.peek() === '.' || this.peek() === '[') throw new Refused(`不能在 ${path}() 的结果上继续调用或读取`)
    return { type: 'call', object: t.text, method: member.text, args }
  }
}

const hasCall = (node: Node): boolean =>
  node.type === 'call' ||
  (node.type === 'unary' && hasCall(node.arg)) ||
  (node.type === 'binary' && (hasCall(node.left) || hasCall(node.right))) ||
  (node.type === 'conditional' && [node.test, node.then, node.else].some(hasCall))

/** Checks a node's calls against allowedCalls. */
function checkCalls(node: Node): void {
  switch (node.type) {
    case 'call': {
      const key = `${node.object}.${node.method}`
      if (key === 'json.list') {
        if (node.args.length !== 1 || node.args[0].type !== 'variable') throw new Refused('json.list() 只能用于一个变量，如 json.list(countersignDepartments)')
      } else if (key === 'execution.getVariable') {
        const [name] = node.args
        if (node.args.length !== 1 || name.type !== 'literal' || typeof name.value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name.value)) {
          throw new Refused("execution.getVariable() 只能读取以字符串写出的变量名，如 execution.getVariable('countersignReturned')")
        }
      } else if (key === 'execution.setVariable') {
        const [name, value] = node.args
        const names: readonly string[] = allowedCalls['execution.setVariable']
        if (node.args.length !== 2 || name.type !== 'literal' || typeof name.value !== 'string' || !names.includes(name.value)) {
          throw new Refused(`execution.setVariable() 只能设置 ${names.join('、')}`)
        }
        if (hasCall(value)) throw new Refused('execution.setVariable() 的值不能再调用方法')
      } else {
        throw new Refused(`不能调用方法 ${key}()（${allowedText}）`)
      }
      return
    }
    case 'unary':
      return checkCalls(node.arg)
    case 'binary':
      checkCalls(node.left)
      return checkCalls(node.right)
    case 'conditional':
      for (const n of [node.test, node.then, node.else]) checkCalls(n)
      return
    default:
      return
  }
}

/**
 * Checks every expression in a text (an attribute, a condition, a parameter): null when the text
 * holds only allowed expressions (or none), else the reason in Chinese. A text may mix literal text
 * and expressions, as `dept_head@${department}` does.
 */
export function expressionProblem(text: string): string | null {
  let i = 0
  for (;;) {
    const deferred = text.indexOf('#{', i)
    const start = text.indexOf('${', i)
    if (deferred >= 0 && (start < 0 || deferred < start)) return '不能使用 #{…} 表达式（请写成 ${…}）'
    if (start < 0) return null
    try {
      const { tokens, end } = tokenize(text, start + 2)
      checkCalls(new Parser(tokens).parse())
      i = end
    } catch (err) {
      if (err instanceof Refused) return err.message
      throw err
    }
  }
}
