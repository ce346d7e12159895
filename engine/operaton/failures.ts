// A unit's failing automated steps, failed jobs and incidents on Operaton, and the retry of an
// incident: external tasks with an error and tries left, jobs with an exception, and incidents,
// always queried as the unit's tenant (the engine's tenant check filters them as well).
import type { StepFailure } from '../port.ts'
import type { Rest } from './rest.ts'

interface ExternalTaskDto {
  id: string
  topicName: string
  processInstanceId: string
  processDefinitionId: string
  activityId: string
  errorMessage: string | null
  retries: number | null
}

interface JobDto {
  id: string
  processInstanceId: string | null
  processDefinitionId: string | null
  failedActivityId?: string | null
  exceptionMessage: string | null
  retries: number
}

interface IncidentDto {
  id: string
  incidentType: string
  processInstanceId: string
  processDefinitionId: string
  activityId: string | null
  failedActivityId?: string | null
  incidentMessage: string | null
  incidentTimestamp: string
  /** The external task's id (failedExternalTask) or the job's (failedJob). */
  configuration: string | null
}

/** Names of the elements of a definition by id; a deployed definition never changes, so they are cached. */
export class StepNames {
  private readonly byDefinition = new Map<string, Map<string, string>>()

  async of(rest: Rest, definitionId: string, stepId: string): Promise<string> {
    let names = this.byDefinition.get(definitionId)
    if (!names) {
      const { bpmn20Xml } = await rest.call<{ bpmn20Xml: string }>('GET', `/process-definition/${enc(definitionId)}/xml`)
      names = elementNames(bpmn20Xml)
      this.byDefinition.set(definitionId, names)
    }
    return names.get(stepId) ?? stepId
  }
}

export class TenantFailures {
  constructor(
    private readonly rest: Rest,
    private readonly tenant: string,
    private readonly names: StepNames,
  ) {}

  async failingSteps(): Promise<StepFailure[]> {
    const [tasks, jobs] = await Promise.all([
      this.rest.call<ExternalTaskDto[]>('GET', '/external-task', { query: { tenantIdIn: this.tenant, withRetriesLeft: true, maxResults: 500 } }),
      this.rest.call<JobDto[]>('GET', '/job', { query: { tenantIdIn: this.tenant, withException: true, withRetriesLeft: true, maxResults: 500 } }),
    ])
    const out: StepFailure[] = []
    for (const t of tasks.filter((x) => x.errorMessage)) {
      out.push({
        id: t.id, instanceId: t.processInstanceId, stepId: t.activityId, stepName: await this.names.of(this.rest, t.processDefinitionId, t.activityId),
        topic: t.topicName, kind: 'automated', message: t.errorMessage, retries: t.retries, since: null,
      })
    }
    for (const j of jobs) {
      if (!j.processInstanceId || !j.processDefinitionId) continue
      const stepId = j.failedActivityId ?? ''
      out.push({
        id: j.id, instanceId: j.processInstanceId, stepId, stepName: stepId ? await this.names.of(this.rest, j.processDefinitionId, stepId) : '',
        topic: null, kind: 'job', message: j.exceptionMessage, retries: j.retries, since: null,
      })
    }
    return out
  }

  async incidents(incidentId?: string): Promise<StepFailure[]> {
    const found = await this.rest.call<IncidentDto[]>('GET', '/incident', { query: { tenantIdIn: this.tenant, incidentId, maxResults: 500 } })
    const out: StepFailure[] = []
    for (const i of found) {
      const stepId = i.failedActivityId ?? i.activityId ?? ''
      const kind = i.incidentType === 'failedExternalTask' ? 'automated' : i.incidentType === 'failedJob' ? 'job' : 'other'
      let topic: string | null = null
      if (kind === 'automated' && i.configuration) {
        const task = await this.rest.call<ExternalTaskDto>('GET', `/external-task/${enc(i.configuration)}`).catch(() => null)
        topic = task?.topicName ?? null
      }
      out.push({
        id: i.id, instanceId: i.processInstanceId, stepId, stepName: stepId ? await this.names.of(this.rest, i.processDefinitionId, stepId) : '',
        topic, kind, message: i.incidentMessage, retries: 0, since: i.incidentTimestamp,
      })
    }
    return out
  }

  /** Sets one more try on the incident's external task or job; the engine then resolves the incident. */
  async retry(incidentId: string): Promise<boolean> {
    const [incident] = await this.rest.call<IncidentDto[]>('GET', '/incident', { query: { tenantIdIn: this.tenant, incidentId } })
    if (!incident?.configuration) return false
    if (incident.incidentType === 'failedExternalTask') {
      await this.rest.call('PUT', `/external-task/${enc(incident.configuration)}/retries`, { body: { retries: 1 } })
      return true
    }
    if (incident.incidentType === 'failedJob') {
      await this.rest.call('PUT', `/job/${enc(incident.configuration)}/retries`, { body: { retries: 1 } })
      return true
    }
    return false
  }
}

const enc = encodeURIComponent

/** id → name of every named element of a model. */
function elementNames(xml: string): Map<string, string> {
  const names = new Map<string, string>()
  const text = xml.replace(/<!--[\s\S]*?-->/g, '')
  for (const m of text.matchAll(/<[\w.-]+:?[\w.-]*(\s[^>]*?)\/?>/g)) {
    const attrs = m[1]
    const id = /(?:^|\s)id\s*=\s*"([^"]*)"/.exec(attrs)?.[1]
    const name = /(?:^|\s)name\s*=\s*"([^"]*)"/.exec(attrs)?.[1]
    if (id && name && !names.has(id)) names.set(id, decode(name))
  }
  return names
}

const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#10;/g, ' ').replace(/&amp;/g, '&')
