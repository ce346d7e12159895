// Each 笺 filled with demo data (the demo units and people of server/db/seed.ts), for tests and for
// the README's screenshots:  node --import tsx server/forms/demo.ts [docs/screenshots]
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { demoUnits } from '../db/seed.ts'
import { Forms } from './forms.ts'
import type { JianContext, OpinionEntry } from './render.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const gov = demoUnits[0]
const names: JianContext['names'] = {
  unit: Object.fromEntries(demoUnits.map((u) => [u.id, u.name])),
  person: Object.fromEntries(demoUnits.flatMap((u) => u.people.map((p) => [p.id, p.name]))),
  department: Object.fromEntries(demoUnits.flatMap((u) => u.departments.map((d) => [d.id, d.name]))),
  document: { '6f1c2a9e-3b7d-4c1e-9a55-0d2f4b8e7c31': '关于做好冬季安全生产工作的通知' },
}

const entry = (box: string, step: string, stepName: string, actor: string, role: string, opinion: string | null, at: string, extra: Partial<OpinionEntry> = {}): OpinionEntry => ({
  box, step, stepName, actorName: names.person[actor], actorRole: role, opinion, blankSignature: false, channel: 'web', at, ...extra,
})

const document = (title: string, extra: Partial<JianContext['document']> = {}): JianContext['document'] => ({
  id: '00000000-0000-4000-8000-000000000001', title, docNumber: null, unitName: gov.name, departmentName: '综合科',
  createdByName: '张伟', createdAt: '2026-01-05T01:30:00Z', sealName: null, sealedAt: null, sealedSha256: null, ...extra,
})

/** Demo data of each 笺, valid against its schema, with an opinion in every box. */
export const demo: Record<string, JianContext> = {
  'fawen-gaozhi': {
    document: document('关于做好冬季安全生产工作的通知', {
      docNumber: '柳政办发〔2026〕12号', sealName: gov.seal_name, sealedAt: '2026-01-06T08:10:00Z',
      sealedSha256: '3f8a2c1d9e4b7a6f5c0d8e2b1a9f7c6d5e4b3a2f1c0d9e8b7a6f5c4d3e2b1a0f',
    }),
    data: {
      title: '关于做好冬季安全生产工作的通知', docKind: '通知', mainRecipients: ['liuzhou-edu'], ccRecipients: ['liuzhou-fin'],
      urgency: '加急', publicity: '主动公开', countersignDepartments: ['liuzhou-gov-mishu'],
      body: '各有关单位：\n入冬以来，我市部分地区出现低温雨雪天气。为切实做好冬季安全生产工作，防范和遏制各类事故发生，现就有关事项通知如下：一、压实安全生产责任……',
      attachments: [{ versionId: '5b0e6a52-8a1c-4f0e-9b7d-2f3c4d5e6f70', sha256: 'a'.repeat(64), name: '冬季安全生产检查表.docx' }],
      copyNumber: '000012', note: '联系人：张伟，电话：0772-2825001', issuingOrgan: '柳州市人民政府办公室', issueDate: '2026-01-06',
    },
    opinions: [
      entry('nigao', 'nigao', '拟稿', 'zhangwei', 'drafter', '拟以市政府办公室名义印发，请审核。', '2026-01-05T01:35:00Z'),
      entry('shenhe', 'shenhe', '审核', 'lina', 'dept_head', '文稿已核，同意送签。', '2026-01-05T03:20:00Z'),
      entry('chushen', 'chushen', '办公室初审', 'zhaolei', 'dept_head', '格式、文字已核，建议送秘书科会签。', '2026-01-05T06:02:00Z'),
      entry('fushen', 'fushen', '办公室复审', 'zhaolei', 'dept_head', '同意送签发。', '2026-01-05T08:30:00Z'),
      entry('huiqian', 'huiqian', '会签', 'zhaolei', 'dept_head', '秘书科无意见。', '2026-01-05T07:45:00Z', { channel: 'api' }),
      entry('qianfa', 'qianfa', '签发', 'wangqiang', 'leader', '同意印发。', '2026-01-06T01:15:00Z'),
    ],
    names,
  },
  'shouwen-chuli': {
    document: document('关于开展校园安全专项检查的通知', { unitName: gov.name, docNumber: '收〔2026〕35号', createdByName: '陈静', departmentName: '秘书科' }),
    data: {
      title: '关于开展校园安全专项检查的通知', sourceUnit: '柳州市教育局', incomingNumber: '柳教发〔2026〕3号', receivedAt: '2026-01-07T01:12:00Z',
      urgency: '特急', deadline: '2026-01-12', summary: '市教育局通知各单位于1月12日前完成校园安全专项检查，并报送检查情况。',
      instructionLeaders: ['wangqiang', 'sunli'], instructionMode: '依次', hostDepartment: 'liuzhou-gov-zonghe', assistDepartments: ['liuzhou-gov-mishu'],
      result: '已按要求完成检查并报送市教育局。',
    },
    opinions: [
      entry('niban', 'niban', '拟办', 'zhaolei', 'dept_head', '拟请王主任、孙副主任阅示，由综合科牵头办理。', '2026-01-07T02:00:00Z'),
      entry('pishi', 'pishi', '批示', 'wangqiang', 'leader', '同意，请综合科抓紧落实。', '2026-01-07T05:30:00Z'),
      entry('pishi', 'pishi', '批示', 'sunli', 'leader', null, '2026-01-07T07:10:00Z', { blankSignature: true }),
      entry('fenban', 'fenban', '分办', 'chenjing', 'registry', '已分送综合科（主办）、秘书科（协办）。', '2026-01-07T08:00:00Z'),
      entry('zhuban', 'zhuban', '主办', 'lina', 'dept_head', '已完成检查，报告已报送。', '2026-01-11T09:40:00Z'),
      entry('xieban', 'xieban', '协办', 'zhaolei', 'dept_head', '已配合完成。', '2026-01-10T03:00:00Z'),
    ],
    names,
  },
  'chengyue-jian': {
    document: document('关于冬季安全生产检查情况的报告'),
    data: {
      title: '关于冬季安全生产检查情况的报告', relatedDocumentId: '6f1c2a9e-3b7d-4c1e-9a55-0d2f4b8e7c31', urgency: '平件',
      body: '根据《关于做好冬季安全生产工作的通知》要求，综合科会同秘书科于1月8日至10日对市政府机关大院开展了安全检查，共发现隐患3处，已整改2处，余下1处正在整改。\n妥否，请阅示。',
      instructionLeaders: ['wangqiang'], instructionMode: '同时', implementation: '余下隐患已于1月15日整改完毕。',
    },
    opinions: [
      entry('keshi', 'keshi', '科室审核', 'lina', 'dept_head', '情况属实，请办公室审核。', '2026-01-10T08:00:00Z'),
      entry('bangongshi', 'bangongshi', '办公室审核', 'zhaolei', 'dept_head', '呈王主任阅。', '2026-01-10T09:00:00Z'),
      entry('pishi', 'pishi', '领导批示', 'wangqiang', 'leader', '已阅。请抓紧完成剩余整改。', '2026-01-11T01:00:00Z'),
      entry('luoshi', 'luoshi', '落实', 'zhangwei', 'drafter', '已落实，整改完毕。', '2026-01-15T07:00:00Z'),
    ],
    names,
  },
}

/** Writes docs/screenshots/<笺>.png for every 笺 with demo data. */
export async function screenshots(outDir: string, forms = new Forms(join(root, 'forms'))): Promise<string[]> {
  mkdirSync(outDir, { recursive: true })
  const written: string[] = []
  try {
    for (const [key, ctx] of Object.entries(demo)) {
      const html = await forms.render(forms.get(key), ctx, { print: false })
      const file = join(outDir, `${key}.png`)
      writeFileSync(file, await forms.printer.png(html))
      written.push(file)
    }
  } finally {
    await forms.close()
  }
  return written
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  screenshots(process.argv[2] ?? join(root, 'docs', 'screenshots')).then((files) => console.log(files.join('\n')))
}
