// Blocking: a value's dry run first (which customers would split), then a confirm, then the
// customers as they now are; and the list of blocked and quarantined values, each unblockable.
import { callApi } from './api.js'
import { fill, formatTime, h } from './dom.js'
import {
  describeSplits,
  type GuardDeps,
  KIND_WORDS,
  say,
  showDone,
  toIdList,
  valueFormSection,
} from './guard-parts.js'
import type { BlockAnswer, Blocked, UnblockAnswer } from './types.js'

const REASON_WORDS: Record<Blocked['reason'], string> = {
  store: 'blocked by the store',
  auto: 'quarantined automatically',
}

/** Returns the block form: preview, then confirm. */
export function blockSection(deps: GuardDeps): HTMLElement {
  return valueFormSection({
    prefix: 'block',
    title: 'Block a value',
    button: 'Preview block',
    emptyMessage: 'Enter the value to block.',
    async preview({ kind, value, body }, result) {
      say(result, 'Asking what blocking would do…')
      const preview = await callApi<BlockAnswer>('POST', '/api/blocked-identifiers?dryRun=true', {
        body,
      })
      if (!preview.ok) return say(result, `Could not preview the block: ${preview.message}`, true)
      const confirm = h('button', { type: 'button', class: 'danger' }, 'Confirm block')
      const cancel = h('button', { type: 'button' }, 'Cancel')
      cancel.addEventListener('click', () => fill(result))
      confirm.addEventListener('click', async () => {
        confirm.disabled = true
        const done = await callApi<BlockAnswer>('POST', '/api/blocked-identifiers', { body })
        if (!done.ok) return say(result, `The block failed: ${done.message}`, true)
        await showDone(result, `Blocked ${KIND_WORDS[kind]} ${value}.`, done.data.splits, deps)
      })
      fill(
        result,
        h(
          'div',
          { id: 'block-preview', class: 'preview' },
          h('h4', {}, `Preview: block ${KIND_WORDS[kind]} ${value}`),
          h('p', {}, 'Nothing has changed yet. Blocking stops this value from joining customers:'),
          describeSplits(preview.data.splits),
          confirm,
          ' ',
          cancel,
        ),
      )
      confirm.focus()
    },
  })
}

/** Returns the blocked and quarantined values, with their reasons and unblock buttons. */
export function blockedListSection(): HTMLElement {
  const list = h('div', { id: 'blocked-list', 'aria-live': 'polite' })
  const show = h('button', { type: 'button' }, 'Show blocked values')
  const load = async () => {
    say(list, 'Reading blocked values…')
    const answer = await callApi<{ blocked: Blocked[] }>('GET', '/api/blocked-identifiers')
    if (!answer.ok) return say(list, `Could not read blocked values: ${answer.message}`, true)
    if (answer.data.blocked.length === 0) return say(list, 'No value is blocked or quarantined.')
    const rows = answer.data.blocked.map((blocked) => {
      const unblock = h(
        'button',
        { type: 'button', 'aria-label': `Unblock ${KIND_WORDS[blocked.kind]} ${blocked.value}` },
        'Unblock',
      )
      unblock.addEventListener('click', async () => {
        unblock.disabled = true
        const done = await callApi<UnblockAnswer>('DELETE', '/api/blocked-identifiers', {
          body: { [blocked.kind]: blocked.value },
        })
        if (!done.ok) return say(list, `Could not unblock: ${done.message}`, true)
        const merged = done.data.merges.map(
          (merge) => `#${merge.primaryContactId} absorbed ${toIdList(merge.absorbed)}`,
        )
        await load()
        list.prepend(
          h(
            'p',
            { role: 'status' },
            `Unblocked ${KIND_WORDS[blocked.kind]} ${blocked.value}.`,
            merged.length > 0 ? ` Customers joined again: ${merged.join('; ')}.` : '',
          ),
        )
      })
      return h(
        'tr',
        {},
        h('td', {}, KIND_WORDS[blocked.kind]),
        h('td', {}, blocked.value),
        h('td', {}, REASON_WORDS[blocked.reason] ?? blocked.reason),
        h('td', {}, formatTime(blocked.createdAt)),
        h('td', {}, unblock),
      )
    })
    fill(
      list,
      h(
        'div',
        {
          class: 'table-scroll',
          role: 'region',
          'aria-label': 'Blocked values table',
          tabindex: 0,
        },
        h(
          'table',
          {},
          h('caption', {}, 'Blocked and quarantined values'),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['Kind', 'Value', 'Reason', 'Since', 'Action'].map((title) =>
                h('th', { scope: 'col' }, title),
              ),
            ),
          ),
          h('tbody', {}, ...rows),
        ),
      ),
    )
  }
  show.addEventListener('click', () => void load())
  return h(
    'section',
    { 'aria-labelledby': 'blocked-title' },
    h('h3', { id: 'blocked-title' }, 'Blocked values'),
    show,
    list,
  )
}
