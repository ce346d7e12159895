// SMS channel: {phone, text} as JSON to the unit's SMS gateway, for people who gave a phone.
import { postJson, type Channel } from './channel.ts'

export const sms: Channel = {
  name: 'sms',
  prepare: (message, { unit, person }) =>
    unit.smsGatewayUrl && person.phone ? { target: unit.smsGatewayUrl, payload: { phone: person.phone, text: message.text } } : null,
  send: ({ target, payload }, options) => postJson(target, payload, options),
}
