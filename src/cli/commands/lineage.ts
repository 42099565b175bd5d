/** `steward lineage NAME:REF`: the lineage graph around a version, printed as trees. */
import type { Command } from 'commander';
import type { AssetKind, LineageGraph } from '../../contracts/assets.js';
import { ASSET_COLLECTION } from '../../contracts/asset-names.js';
import { clientFor, printJson, type GlobalOptions } from '../cli-context.js';
import { parseRef, UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

/** Renders one direction of the graph as an indented tree from the root; a node met twice is marked. */
export function renderTree(g: LineageGraph, direction: 'upstream' | 'downstream'): string[] {
  const label = new Map(g.nodes.map((n) => [n.id, n.hidden ? `${n.id} (in a namespace this token cannot read)` : n.state ? `${n.id} (${n.state})` : n.id]));
  const children = new Map<string, { id: string; relation: string }[]>();
  for (const e of g.edges) {
    const [parent, child] = direction === 'upstream' ? [e.from, e.to] : [e.to, e.from];
    children.set(parent, [...(children.get(parent) ?? []), { id: child, relation: e.relation }]);
  }
  const lines: string[] = [];
  const seen = new Set<string>();
  const walk = (id: string, prefix: string) => {
    const kids = (children.get(id) ?? []).sort((a, b) => a.id.localeCompare(b.id));
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      const again = seen.has(k.id);
      lines.push(`${prefix}${last ? '└─' : '├─'} ${k.relation}: ${label.get(k.id) ?? k.id}${again ? ' (see above)' : ''}`);
      if (!again) {
        seen.add(k.id);
        walk(k.id, `${prefix}${last ? '   ' : '│  '}`);
      }
    });
  };
  seen.add(g.root);
  walk(g.root, '  ');
  return lines;
}

export function registerLineage(program: Command, globals: () => GlobalOptions): void {
  program
    .command('lineage')
    .description('Show what a version derives from (parents, base model, datasets) and what derives from it')
    .argument('<name:ref>', 'NAME:VERSION or NAME:ALIAS')
    .option('--kind <kind>', 'model or dataset', 'model')
    .option('--direction <dir>', 'upstream, downstream or both', 'both')
    .option('--depth <n>', 'hops to follow', '10')
    .option('--json', 'print the graph as JSON')
    .action(async (refArg: string, o: { kind: string; direction: string; depth: string } & GlobalOptions) => {
      if (!['model', 'dataset', 'prompt'].includes(o.kind)) throw new UsageError('--kind must be model, dataset or prompt');
      const g = { ...globals(), ...pickGlobals(o) };
      const { name, ref } = parseRef(refArg, 'latest');
      const res = await clientFor(g).raw('GET', `/api/v1/${ASSET_COLLECTION[o.kind as AssetKind]}/${encodeURIComponent(name)}/versions/${encodeURIComponent(ref)}/lineage`, {
        query: { direction: o.direction, depth: o.depth },
      });
      const graph = (await res.json()) as LineageGraph;
      if (o.json) return printJson(graph);
      const out = [graph.root];
      if (o.direction !== 'downstream') out.push(' derives from:', ...(renderTree(graph, 'upstream').length ? renderTree(graph, 'upstream') : ['  (nothing recorded)']));
      if (o.direction !== 'upstream') out.push(' used by:', ...(renderTree(graph, 'downstream').length ? renderTree(graph, 'downstream') : ['  (nothing yet)']));
      if (graph.truncated) out.push(`(stopped after ${o.depth} hops: --depth to see more)`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
