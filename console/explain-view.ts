// Explain: the chain of evidence between two contacts, step by step, as GET /api/explain says it.
import { callApi } from './api.js'
import { h } from './dom.js'
import type { Explanation } from './types.js'

/** Fills the two pickers with the customer's contact ids; `from` and `to` preselected. */
export function fillPickers(
  pickers: [HTMLSelectElement, HTMLSelectElement],
  contactIds: readonly number[],
  from: number,
  to: number,
): void {
  pickers.forEach((picker, index) => {
    const chosen = index === 0 ? from : to
    picker.replaceChildren(
      ...contactIds.map((id) => h('option', { value: id, selected: id === chosen }, `#${id}`)),
    )
  })
}

/** Asks why `from` and `to` are one customer: the explanation, or the failure in words. */
export async function explain(
  from: number,
  to: number,
): Promise<{ ok: true; explanation: Explanation } | { ok: false; message: string }> {
  const answer = await callApi<Explanation>('GET', `/api/explain?from=${from}&to=${to}`)
  return answer.ok ? { ok: true, explanation: answer.data } : { ok: false, message: answer.message }
}

/** Returns the explanation's sentences, numbered, one per step. */
export function renderExplanation(explanation: Explanation): HTMLElement {
  const { from, to, steps } = explanation
  if (from === to) return h('p', { id: 'explain-steps' }, `#${from} is the same contact.`)
  return h(
    'div',
    {},
    h('p', {}, `Contacts #${from} and #${to} are one customer because:`),
    h(
      'ol',
      { id: 'explain-steps', class: 'steps', 'data-step-count': steps.length },
      ...steps.map((step) => h('li', { 'data-kind': step.kind }, step.text)),
    ),
  )
}
