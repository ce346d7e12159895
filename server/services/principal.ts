// Who is calling: a person with a login token, or an integrator with a unit-bound API key.
export interface Principal {
  userId: string
  unitId: string
  name: string
  roles: string[]
  /** web for people, api for integrators; recorded with every action. */
  channel: 'web' | 'api'
}
