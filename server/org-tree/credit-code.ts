// 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character alphabet (no I, O, Z, S, V),
// the last a check character computed from the first 17 with fixed weights, modulo 31.
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

/** The check character for the first 17 characters, or null when one is outside the alphabet. */
export function creditCheckChar(first17: string): string | null {
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = ALPHABET.indexOf(first17[i])
    if (v < 0) return null
    sum += v * WEIGHTS[i]
  }
  return ALPHABET[(31 - (sum % 31)) % 31]
}

/** What is wrong with a code, in Chinese, or null when it is valid. */
export function creditCodeProblem(code: string): string | null {
  if (code.length !== 18) return `统一社会信用代码应为 18 位，实为 ${code.length} 位`
  const bad = [...code].find((c) => !ALPHABET.includes(c))
  if (bad) return `统一社会信用代码含有不允许的字符“${bad}”（只用数字和除 I、O、Z、S、V 外的大写字母）`
  if (!/^\d{6}$/.test(code.slice(2, 8))) return '统一社会信用代码第 3–8 位应为行政区划码（6 位数字）'
  const check = creditCheckChar(code.slice(0, 17))
  if (check !== code[17]) return `统一社会信用代码校验位不符（第 18 位应为“${check}”）`
  return null
}

/** A valid code from its first 17 characters (seed data and tests). */
export const withCheckChar = (first17: string) => first17 + creditCheckChar(first17)
