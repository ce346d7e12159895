// The external channels every notification is offered to; adding one is one file and one line here.
import type { Channel } from './channel.ts'
import { sms } from './sms.ts'
import { webhook } from './webhook.ts'

export const channels: readonly Channel[] = [webhook, sms]
