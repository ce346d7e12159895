// Webhook channel: the whole message as JSON to the unit's webhook URL.
import { postJson, type Channel } from './channel.ts'

export const webhook: Channel = {
  name: 'webhook',
  prepare: (message, { unit }) => (unit.webhookUrl ? { target: unit.webhookUrl, payload: message } : null),
  send: ({ target, payload }, options) => postJson(target, payload, options),
}
