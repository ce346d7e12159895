// 运行监控 (/app/operations, the office head and the unit admin): what needs a person now — stuck
// documents, failing automated steps, engine incidents — and the unit's figures as charts.
import { Shell, mount } from '../components/shell.tsx'
import { currentUser } from '../lib/api.ts'
import { ProblemsPanel } from '../operations/problems.tsx'
import { FiguresPanel } from '../operations/figures.tsx'
import '../operations/operations.css'

/** Mirrors OPERATORS in server/services/operations.ts: the server checks again. */
export const operatorRoles = ['office_head', 'unit_admin']

function OperationsPage() {
  if (!operatorRoles.some((r) => currentUser()?.roles.includes(r))) {
    return <Shell active="operations"><p class="alert error">只有办公室主任和单位管理员可以使用运行监控。</p></Shell>
  }
  return (
    <Shell active="operations">
      <h1>运行监控</h1>
      <ProblemsPanel />
      <FiguresPanel />
    </Shell>
  )
}

mount(OperationsPage)
