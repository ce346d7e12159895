// What a notification channel is: one file per channel (webhook.ts, sms.ts) implements Channel.
// The in-app channel needs no adapter: the notifications row is the delivery.
import type { Outbound } from './outbound.ts'

/** A notification as the outside world sees it. */
export interface Message {
  kind: string
  unitId: string
  taskKey: string
  documentId: string
  title: string
  stepName: string
  text: string
  recipient: { id: string; name: string }
  createdAt: string
}

/** What a channel may need to know to reach a person of a unit. */
export interface Reach {
  unit: { webhookUrl: string | null; smsGatewayUrl: string | null }
  person: { id: string; phone: string | null }
}

export interface Delivery {
  target: string
  payload: unknown
}

export interface SendOptions {
  idempotencyKey: string
  timeoutMs: number
  /** The only way out: checks the address on every call (see outbound.ts). */
  outbound: Outbound
}

export interface Channel {
  readonly name: string
  /** The delivery to queue for this message, or null when the unit or person has not set the channel up. */
  prepare(message: Message, reach: Reach): Delivery | null
  /** Delivers once; throws unless the receiver accepted it (a PermanentFailure when retrying cannot help). */
  send(delivery: Delivery, options: SendOptions): Promise<void>
}

/**
 * POSTs JSON through the outbound guard and accepts any 2xx; the Idempotency-Key lets the receiver
 * drop a repeat. A refused address or a redirect throws a PermanentFailure.
 */
export async function postJson(url: string, body: unknown, options: SendOptions): Promise<void> {
  await options.outbound.postJson(url, body, { headers: { 'idempotency-key': options.idempotencyKey }, timeoutMs: options.timeoutMs })
}
