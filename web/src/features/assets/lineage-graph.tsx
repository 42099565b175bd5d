/**
 * The lineage of a version as a graph: what it derives from (parents, base model, datasets) to
 * the left, what derives from it to the right, one column per hop. Each node links to its page.
 */
import { Link } from 'react-router';
import type { LineageGraph as Graph } from '../../../../src/contracts/assets.js';
import { paths } from '../../app/paths.js';

const COL_W = 270;
const NODE_W = 190;
const NODE_H = 46;
const ROW_H = 64;

export interface Placed {
  id: string;
  x: number;
  y: number;
}

/** Columns by depth (upstream negative, left), rows in order of appearance. */
export function layoutLineage(graph: Graph): { placed: Map<string, Placed>; width: number; height: number } {
  const depths = graph.nodes.map((n) => n.depth);
  const min = Math.min(0, ...depths);
  const max = Math.max(0, ...depths);
  const rows = new Map<number, number>();
  const placed = new Map<string, Placed>();
  for (const n of graph.nodes) {
    const r = rows.get(n.depth) ?? 0;
    rows.set(n.depth, r + 1);
    placed.set(n.id, { id: n.id, x: (n.depth - min) * COL_W + 10, y: r * ROW_H + 10 });
  }
  const tallest = Math.max(1, ...rows.values());
  return { placed, width: (max - min) * COL_W + NODE_W + 20, height: tallest * ROW_H + 10 };
}

export function LineageGraph({ graph }: { graph: Graph }) {
  const { placed, width, height } = layoutLineage(graph);
  return (
    <div className="lineage">
      <svg width={width} height={height} role="img" aria-label="Lineage graph">
        {graph.edges.map((e) => {
          const a = placed.get(e.from);
          const b = placed.get(e.to);
          if (!a || !b) return null;
          // An edge goes from the derived version to what it derives from: draw it from b's right side to a's left.
          const [l, r] = a.x < b.x ? [a, b] : [b, a];
          const x1 = l.x + NODE_W;
          const y1 = l.y + NODE_H / 2;
          const x2 = r.x;
          const y2 = r.y + NODE_H / 2;
          const mid = (x1 + x2) / 2;
          return (
            <g key={`${e.from}-${e.to}-${e.relation}`}>
              <path className="edge" d={`M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`} />
              <text x={x1 + 6} y={y1 - 5} textAnchor="start" style={{ fontSize: 10, fill: '#98a2b3' }}>
                {e.relation.replace('_', ' ')}
              </text>
            </g>
          );
        })}
        {graph.nodes.map((n) => {
          const p = placed.get(n.id)!;
          const label = n.hidden ? 'hidden' : n.name ? `${n.name}` : n.id.replace(/^external:/, '');
          const body = (
            <g className={n.id === graph.root ? 'node node-root' : 'node'} transform={`translate(${p.x},${p.y})`}>
              <rect width={NODE_W} height={NODE_H} rx={8} />
              <text x={10} y={17} className="node-kind">
                {n.kind ?? 'external'}
                {n.state && n.state !== 'ready' ? ` · ${n.state}` : ''}
              </text>
              <text x={10} y={35}>
                {label.length > 22 ? `${label.slice(0, 21)}…` : label}
                {n.version ? <tspan style={{ fill: '#667085' }}>{` ${n.version}`}</tspan> : null}
              </text>
            </g>
          );
          return n.kind && n.name && n.version && n.id !== graph.root ? (
            <Link key={n.id} to={paths.version(n.kind, n.name, n.version, 'lineage')} aria-label={`${n.kind} ${n.name} ${n.version}`}>
              {body}
            </Link>
          ) : (
            <g key={n.id}>{body}</g>
          );
        })}
      </svg>
      {graph.truncated ? <p className="muted">The graph is cut at its depth limit.</p> : null}
    </div>
  );
}
