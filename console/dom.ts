// The few DOM helpers every view uses: build an element, find one by id, empty one.

type Child = Node | string | number | null | undefined | false

/** Returns a new `tag` element with `attrs` (false or undefined leave one out) and `children`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue
    element.setAttribute(name, value === true ? '' : String(value))
  }
  element.append(...toNodes(children))
  return element
}

/** Returns the page's element with id `id`; a missing one is a bug in index.html. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`index.html has no #${id}`)
  return element as T
}

/** Replaces everything in `element` with `children`. */
export function fill(element: Element, ...children: Child[]): void {
  element.replaceChildren(...toNodes(children))
}

const toNodes = (children: Child[]): (Node | string)[] =>
  children.flatMap((child) =>
    child === null || child === undefined || child === false
      ? []
      : [typeof child === 'number' ? String(child) : child],
  )

/** A date as people here read it, in UTC so that screenshots and tests do not move. */
export const formatTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`
