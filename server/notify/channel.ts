// What a notification channel is: one file per channel (webhook.ts, sms.ts) implements Channel.
// The in-app channel needs no adapter: the notifications row is the delivery.

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

export interface Channel {
  readonly name: string
  /** The delivery to queue for this message, or null when the unit or person has not set the channel up. */
  prepare(message: Message, reach: Reach): Delivery | null
  /** Delivers once; throws unless the receiver accepted it. */
  send(delivery: Delivery, options: { idempotencyKey: string; timeoutMs: number }): Promise<void>
}

/** POSTs JSON and accepts any 2xx; the Idempotency-Key lets the receiver drop a repeat. */
export async function postJson(url: string, body: unknown, options: { idempotencyKey: string; timeoutMs: number }): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(options.timeoutMs),
  })
  const text = await res.text().catch(() => '')
  if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`)
}
