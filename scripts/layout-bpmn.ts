// Adds diagram layout (DI) to BPMN files written by hand without one, so they open in the
// modeler and the tracking view: node --import tsx scripts/layout-bpmn.ts processes/x.bpmn ...
import { readFile, writeFile } from 'node:fs/promises'
import { layoutProcess } from 'bpmn-auto-layout'

for (const file of process.argv.slice(2)) {
  const xml = await readFile(file, 'utf8')
  if (xml.includes('<bpmndi:BPMNDiagram')) {
    console.log(`${file}: has a layout already, left as it is`)
    continue
  }
  await writeFile(file, await layoutProcess(xml))
  console.log(`${file}: layout added`)
}
