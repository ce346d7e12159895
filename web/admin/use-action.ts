// One admin action at a time: run it, reload the list, and show either its notice or its error.
import { useState } from 'preact/hooks'

export function useAction(onChange: () => Promise<unknown>) {
  const [error, setError] = useState<unknown>(null)
  const [notice, setNotice] = useState<string | null>(null)
  /** Answers whether the action succeeded. */
  const run = async (action: () => Promise<unknown>, done: string): Promise<boolean> => {
    setError(null)
    setNotice(null)
    try {
      await action()
      await onChange()
      setNotice(done)
      return true
    } catch (err) {
      setError(err)
      return false
    }
  }
  return { error, notice, run }
}
