/**
 * The layered left-to-right layout of a lineage graph (model version → run →
 * datasets / notebook / commit / parent runs). Pure: no DOM, unit-tested in Node.
 */
import { Lineage, LineageEdge, LineageNode } from './client';

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** Horizontal gap between layers. */
  gapX: number;
  /** Vertical gap between the nodes of a layer. */
  gapY: number;
  padding: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  nodeWidth: 184,
  nodeHeight: 44,
  gapX: 72,
  gapY: 14,
  padding: 12
};

export interface PositionedNode {
  node: LineageNode;
  layer: number;
  /** Position in its layer, top to bottom. */
  order: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PositionedEdge {
  edge: LineageEdge;
  /** SVG path (cubic Bézier) from the right side of the source to the left of the target. */
  path: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Where a label of the edge goes. */
  labelX: number;
  labelY: number;
}

export interface LineageLayout {
  nodes: PositionedNode[];
  edges: PositionedEdge[];
  /** Node ids per layer, in order. */
  layers: string[][];
  width: number;
  height: number;
}

/** The order of kinds inside a layer (ties after the barycenter). */
const KIND_ORDER = ['model_version', 'dataset', 'notebook', 'commit', 'run'];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/**
 * The layer of each node: the longest path to it from a node without incoming edges
 * (edges to unknown nodes are ignored; an edge closing a cycle is ignored).
 */
export function computeLayers(
  nodes: ReadonlyArray<LineageNode>,
  edges: ReadonlyArray<LineageEdge>
): Map<string, number> {
  const ids = new Set(nodes.map(n => n.id));
  const incoming = new Map<string, string[]>();
  for (const id of ids) {
    incoming.set(id, []);
  }
  for (const e of edges) {
    if (ids.has(e.source) && ids.has(e.target) && e.source !== e.target) {
      incoming.get(e.target)!.push(e.source);
    }
  }
  const layers = new Map<string, number>();
  const onStack = new Set<string>();
  const visit = (id: string): number => {
    const known = layers.get(id);
    if (known !== undefined) {
      return known;
    }
    onStack.add(id);
    let layer = 0;
    for (const source of incoming.get(id)!) {
      if (onStack.has(source)) {
        continue; // a cycle: ignore the closing edge
      }
      layer = Math.max(layer, visit(source) + 1);
    }
    onStack.delete(id);
    layers.set(id, layer);
    return layer;
  };
  for (const n of nodes) {
    visit(n.id);
  }
  return layers;
}

/**
 * Lay a lineage graph out left to right: one column per layer, nodes of a layer
 * ordered by the mean position of their parents (then by kind and label) and centered
 * vertically.
 */
export function layoutLineage(
  lineage: Lineage,
  options: Partial<LayoutOptions> = {}
): LineageLayout {
  const opt = { ...DEFAULT_LAYOUT, ...options };
  const nodes = dedupe(lineage.nodes ?? []);
  const byId = new Map(nodes.map(n => [n.id, n]));
  const edges = (lineage.edges ?? []).filter(
    e => byId.has(e.source) && byId.has(e.target)
  );
  const layerOf = computeLayers(nodes, edges);
  const layerCount = nodes.length
    ? Math.max(...nodes.map(n => layerOf.get(n.id)!)) + 1
    : 0;

  const parents = new Map<string, string[]>();
  for (const e of edges) {
    if (!parents.has(e.target)) {
      parents.set(e.target, []);
    }
    parents.get(e.target)!.push(e.source);
  }

  const firstSeen = new Map(nodes.map((n, i) => [n.id, i]));
  const orderOf = new Map<string, number>();
  const layers: string[][] = [];
  for (let layer = 0; layer < layerCount; layer++) {
    const members = nodes.filter(n => layerOf.get(n.id) === layer);
    const center = (n: LineageNode): number => {
      const placed = (parents.get(n.id) ?? [])
        .map(p => orderOf.get(p))
        .filter((o): o is number => o !== undefined);
      return placed.length
        ? placed.reduce((a, b) => a + b, 0) / placed.length
        : 0;
    };
    members.sort(
      (a, b) =>
        center(a) - center(b) ||
        kindRank(a.kind) - kindRank(b.kind) ||
        firstSeen.get(a.id)! - firstSeen.get(b.id)!
    );
    members.forEach((n, i) => orderOf.set(n.id, i));
    layers.push(members.map(n => n.id));
  }

  const columnHeight = (count: number) =>
    count > 0 ? count * opt.nodeHeight + (count - 1) * opt.gapY : 0;
  const tallest = Math.max(0, ...layers.map(l => columnHeight(l.length)));
  const positioned = new Map<string, PositionedNode>();
  layers.forEach((ids, layer) => {
    const top = opt.padding + (tallest - columnHeight(ids.length)) / 2;
    ids.forEach((id, order) => {
      positioned.set(id, {
        node: byId.get(id)!,
        layer,
        order,
        x: opt.padding + layer * (opt.nodeWidth + opt.gapX),
        y: top + order * (opt.nodeHeight + opt.gapY),
        width: opt.nodeWidth,
        height: opt.nodeHeight
      });
    });
  });

  const positionedEdges = edges.map((edge): PositionedEdge => {
    const s = positioned.get(edge.source)!;
    const t = positioned.get(edge.target)!;
    const x1 = s.x + s.width;
    const y1 = s.y + s.height / 2;
    const x2 = t.x;
    const y2 = t.y + t.height / 2;
    const bend = Math.max(24, Math.abs(x2 - x1) / 2);
    return {
      edge,
      path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
      x1,
      y1,
      x2,
      y2,
      labelX: (x1 + x2) / 2,
      labelY: (y1 + y2) / 2
    };
  });

  return {
    nodes: nodes.map(n => positioned.get(n.id)!),
    edges: positionedEdges,
    layers,
    width: layerCount
      ? 2 * opt.padding +
        layerCount * opt.nodeWidth +
        (layerCount - 1) * opt.gapX
      : 0,
    height: layerCount ? 2 * opt.padding + tallest : 0
  };
}

/** Keep the first node of each id. */
function dedupe(nodes: ReadonlyArray<LineageNode>): LineageNode[] {
  const seen = new Set<string>();
  return nodes.filter(n => {
    if (seen.has(n.id)) {
      return false;
    }
    seen.add(n.id);
    return true;
  });
}

/** Shorten a label to `max` characters with an ellipsis. */
export function truncateLabel(label: string, max: number): string {
  if (label.length <= max) {
    return label;
  }
  return max <= 1 ? '…' : `${label.slice(0, max - 1)}…`;
}

/** The caption under a node's label: its kind, in words. */
export function kindLabel(node: LineageNode): string {
  switch (node.kind) {
    case 'model_version':
      return 'model version';
    case 'run':
      return 'run';
    case 'dataset':
      return node.data?.role ? `dataset · ${node.data.role}` : 'dataset';
    case 'notebook':
      return 'notebook';
    case 'commit':
      return node.data?.branch ? `commit · ${node.data.branch}` : 'commit';
    default:
      return String(node.kind);
  }
}

/** Human text of an edge kind (`trained_on` → `trained on`). */
export function edgeLabel(kind: string): string {
  return kind.replace(/_/g, ' ');
}
