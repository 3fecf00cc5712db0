// Draws a customer's graph with Cytoscape.js, and highlights an explanation's path on it. The
// container carries the counts as data attributes (data-node-count, data-edge-count) for people
// using assistive technology (through its label) and for the end-to-end tests.
import cytoscape from 'cytoscape'
import type { Graph } from './graph-model.js'
import type { ExplainStep } from './types.js'

/** A drawn graph: highlight a path, clear it, pick contacts by tapping, throw it away. */
export type GraphView = {
  highlight: (steps: readonly ExplainStep[]) => void
  destroy: () => void
}

// Past this many nodes a tree is too wide to read; rings by degree cost linear time too.
const TREE_LAYOUT_LIMIT = 80

const STYLE: cytoscape.StylesheetJson = [
  {
    selector: 'node',
    style: {
      label: 'data(label)',
      'background-color': '#dbe7f5',
      'border-color': '#1f4f8a',
      'border-width': 2,
      color: '#111827',
      'font-size': 13,
      'text-valign': 'center',
      'text-halign': 'center',
      width: 34,
      height: 34,
    },
  },
  {
    selector: 'node.primary',
    style: {
      'background-color': '#1f4f8a',
      color: '#ffffff',
      shape: 'round-rectangle',
      width: 44,
      height: 34,
      'border-width': 3,
    },
  },
  {
    selector: 'node.blocked',
    style: { 'border-color': '#b42318', 'border-style': 'dashed', 'border-width': 4 },
  },
  {
    selector: 'edge',
    style: { width: 2, 'curve-style': 'bezier', 'line-color': '#1f4f8a', opacity: 0.85 },
  },
  { selector: 'edge.phone', style: { 'line-color': '#0f766e', 'line-style': 'dashed' } },
  { selector: 'edge.pair', style: { 'line-color': '#7e22ce', 'line-style': 'dotted', width: 3 } },
  { selector: 'edge.link', style: { 'line-color': '#6b7280', 'line-style': 'dotted', width: 2 } },
  { selector: 'edge.blocked', style: { 'line-color': '#b42318', 'line-style': 'dashed' } },
  // An edge added for an explanation step (a shared identifier is drawn to its oldest holder
  // only): curved, so it is never mistaken for a line through the nodes between its ends.
  {
    selector: 'edge.explained',
    style: {
      'curve-style': 'unbundled-bezier',
      'control-point-distances': [50],
      'control-point-weights': [0.5],
    },
  },
  { selector: '.faded', style: { opacity: 0.2 } },
  { selector: 'node.on-path', style: { 'border-color': '#d97706', 'border-width': 5 } },
  {
    selector: 'edge.on-path',
    style: { 'line-color': '#d97706', width: 6, opacity: 1, 'z-index': 10 },
  },
  // Fine dots at this width read as a pale line: a highlighted pair gets short dashes instead.
  {
    selector: 'edge.pair.on-path, edge.link.on-path',
    style: { 'line-style': 'dashed', 'line-dash-pattern': [4, 4] },
  },
]

/** Draws `graph` into `container`; `onPick` hears the contact a person taps. */
export function drawGraph(
  container: HTMLElement,
  graph: Graph,
  onPick: (contactId: number) => void,
): GraphView {
  const elements: cytoscape.ElementDefinition[] = [
    ...graph.nodes.map((node) => ({
      data: { id: String(node.id), label: node.label },
      classes: [node.isPrimary && 'primary', node.isBlocked && 'blocked'].filter(Boolean).join(' '),
    })),
    ...graph.edges.map((edge) => ({
      data: { id: edge.id, source: String(edge.source), target: String(edge.target) },
      classes: [edge.kind, edge.isBlocked && 'blocked'].filter(Boolean).join(' '),
    })),
  ]
  const isLarge = graph.nodes.length > TREE_LAYOUT_LIMIT
  const primary = graph.nodes.find((node) => node.isPrimary)
  const rings = isLarge ? toRings(graph) : new Map<string, number>()
  const cy = cytoscape({
    container,
    elements,
    style: STYLE,
    layout: isLarge
      ? {
          name: 'concentric',
          // The primary in the middle, the rest in rings by how connected they are.
          concentric: (node) => rings.get(node.id()) ?? 0,
          levelWidth: () => 1,
          minNodeSpacing: 6,
          animate: false,
        }
      : {
          // A tree from the primary, level by level: the same picture every time, and the
          // chains that hold customers together read top to bottom.
          name: 'breadthfirst',
          roots: primary === undefined ? undefined : [String(primary.id)],
          directed: false,
          spacingFactor: 1.1,
          animate: false,
        },
    // A large graph redraws cheaply while it is moved.
    textureOnViewport: isLarge,
    hideEdgesOnViewport: isLarge,
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 1.6,
  })
  cy.on('tap', 'node', (event) => onPick(Number(event.target.id())))
  container.dataset.nodeCount = String(graph.nodes.length)
  container.dataset.edgeCount = String(graph.edges.length)
  container.dataset.edgeKinds = countKinds(graph)
  container.dataset.blockedNodes = String(graph.nodes.filter((node) => node.isBlocked).length)
  container.dataset.highlightedNodes = '0'
  container.dataset.highlightedEdges = '0'

  const clear = () => {
    cy.elements().removeClass('faded on-path')
    cy.remove('edge.explained')
  }
  return {
    highlight(steps) {
      clear()
      const path = cy.collection()
      for (const step of steps) {
        const ends = cy.getElementById(String(step.from)).union(cy.getElementById(String(step.to)))
        if (ends.length < 2) continue
        // The edge drawn for this step's evidence, or one added for it: a shared identifier is
        // drawn to its oldest holder, not between every two holders.
        let edge = ends
          .edgesWith(ends)
          .filter((candidate) => candidate.hasClass(EDGE_CLASS[step.kind]))
        if (edge.empty()) {
          edge = cy.add({
            data: {
              id: `explained:${step.from}-${step.to}`,
              source: String(step.from),
              target: String(step.to),
            },
            classes: `explained ${EDGE_CLASS[step.kind]}`,
          })
        }
        path.merge(ends).merge(edge.first())
      }
      cy.elements().not(path).addClass('faded')
      path.addClass('on-path')
      container.dataset.highlightedNodes = String(path.nodes().length)
      container.dataset.highlightedEdges = String(path.edges().length)
    },
    destroy: () => cy.destroy(),
  }
}

const EDGE_CLASS: Record<ExplainStep['kind'], string> = {
  'shared-email': 'email',
  'shared-phone': 'phone',
  'request-pair': 'pair',
  'recorded-link': 'link',
}

// "email:2 phone:1": how many edges of each kind, sorted by kind.
function countKinds(graph: Graph): string {
  const counts = new Map<string, number>()
  for (const edge of graph.edges) counts.set(edge.kind, (counts.get(edge.kind) ?? 0) + 1)
  return [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, count]) => `${kind}:${count}`)
    .join(' ')
}

/**
 * Rings for a large graph, innermost highest: the primary alone, then the others by how many
 * edges they have, ten more to each ring than to the one inside it. Ringing by degree alone put
 * 199 contacts of one shared phone on one ring, each too small to see.
 */
function toRings(graph: Graph): Map<string, number> {
  const degree = new Map<number, number>()
  for (const edge of graph.edges) {
    for (const id of [edge.source, edge.target]) degree.set(id, (degree.get(id) ?? 0) + 1)
  }
  const ordered = [...graph.nodes].sort(
    (a, b) =>
      Number(b.isPrimary) - Number(a.isPrimary) ||
      (degree.get(b.id) ?? 0) - (degree.get(a.id) ?? 0) ||
      a.id - b.id,
  )
  const rings = new Map<string, number>()
  let ring = 0
  let room = 1
  for (const node of ordered) {
    if (room === 0) {
      ring++
      room = ring * 10
    }
    rings.set(String(node.id), -ring)
    room--
  }
  return rings
}
