/**
 * Relations between versions: comparison of two versions (files, metadata, labels, metrics)
 * and the lineage graph (what a version derives from, and what derives from it).
 */
import type { AssetKind, CompareResponse, LineageGraph, VersionState } from '../../contracts/assets.js';
import { diffManifests, diffRecords, lineageTargetHidden, metricDeltas, splitPointer } from './assets-fns.js';
import type { AssetLookups } from './assets-lookup-service.js';
import type { AssetsRepo } from './assets-repo.js';

export function createAssetGraph(deps: { repo: AssetsRepo; lookups: AssetLookups }) {
  const { repo } = deps;
  const { getVersion, requireAsset, resolve } = deps.lookups;
  return {
    async compare(kind: AssetKind, name: string, ref: string, other: string): Promise<CompareResponse> {
      // `other` is a REF of this asset, or NAME:REF.
      const b = other.includes(':') ? splitPointer(other) : { name, ref: other };
      const [va, vb] = await Promise.all([getVersion(kind, name, ref, { files: true }), getVersion(kind, b.name, b.ref, { files: true })]);
      const files = diffManifests(va.files ?? [], vb.files ?? []);
      return {
        a: { name: va.name, version: va.version, digest: va.digest },
        b: { name: vb.name, version: vb.version, digest: vb.digest },
        sameContent: va.digest === vb.digest,
        files: files.files,
        unchangedFiles: files.unchanged,
        metadata: diffRecords(va.metadata, vb.metadata),
        labels: diffRecords(va.labels, vb.labels),
        metrics: metricDeltas(va.metadata, vb.metadata),
      };
    },

    /**
     * The lineage graph around a version: upstream (what it derives from: parents, base models,
     * datasets) and downstream (what derives from it), breadth first up to `depth` hops. For a
     * token limited to `namespaces`, a version outside them is a hidden node (`hidden:<n>`, no
     * name) and the walk does not go past it: what lies beyond is another team's.
     */
    async lineage(kind: AssetKind, name: string, ref: string, opts: { direction: 'upstream' | 'downstream' | 'both'; depth: number }, namespaces: readonly string[] | null = null): Promise<LineageGraph> {
      const a = await requireAsset(kind, name);
      const v = await resolve(kind, a, ref);
      const idOf = (k: string, n: string, ver: string) => `${k}:${n}@${ver}`;
      const rootId = idOf(kind, a.name, v.version);
      const nodes = new Map<string, LineageGraph['nodes'][number]>([[rootId, { id: rootId, kind, name: a.name, version: v.version, state: v.state as VersionState, depth: 0 }]]);
      const edges = new Map<string, LineageGraph['edges'][number]>();
      const byVersionId = new Map<number, string>([[v.id, rootId]]);
      const hiddenIds = new Map<string, string>();
      let truncated = false;
      for (const dir of ['upstream', 'downstream'] as const) {
        if (opts.direction !== 'both' && opts.direction !== dir) continue;
        let frontier = [v.id];
        const seen = new Set(frontier);
        for (let hop = 1; frontier.length; hop++) {
          if (hop > opts.depth) {
            truncated = true;
            break;
          }
          const rows = dir === 'upstream' ? await repo.edgesFrom(frontier) : await repo.edgesInto(frontier);
          const next: number[] = [];
          for (const r of rows) {
            const otherVersionId = dir === 'upstream' ? r.to_id : r.from_id;
            const known = otherVersionId !== null ? byVersionId.get(otherVersionId) : undefined;
            const realId = r.name && r.kind && r.version ? idOf(r.kind, r.name, r.version) : `external:${r.target_ref}`;
            const hidden = !known && lineageTargetHidden({ name: r.name, relation: r.relation, ref: r.target_ref }, namespaces);
            const otherId = known ?? (hidden ? (hiddenIds.get(realId) ?? `hidden:${hiddenIds.size + 1}`) : realId);
            if (hidden) hiddenIds.set(realId, otherId);
            if (!nodes.has(otherId)) {
              const depth = dir === 'upstream' ? -hop : hop;
              nodes.set(
                otherId,
                hidden
                  ? { id: otherId, kind: (r.kind as AssetKind | null) ?? null, name: null, version: null, state: null, depth, hidden: true }
                  : { id: otherId, kind: (r.kind as AssetKind | null) ?? null, name: r.name ?? r.target_ref, version: r.version ?? null, state: (r.state as VersionState | null) ?? null, depth },
              );
            }
            if (otherVersionId !== null && !hidden) {
              byVersionId.set(otherVersionId, otherId);
              if (!seen.has(otherVersionId)) {
                seen.add(otherVersionId);
                next.push(otherVersionId);
              }
            }
            const here = byVersionId.get(dir === 'upstream' ? r.from_id : r.to_id!)!;
            const edge = dir === 'upstream' ? { from: here, to: otherId } : { from: otherId, to: here };
            edges.set(`${edge.from}|${edge.to}|${r.relation}`, { ...edge, relation: r.relation as 'parent' | 'base_model' | 'dataset' });
          }
          frontier = next;
        }
      }
      return { root: rootId, nodes: [...nodes.values()], edges: [...edges.values()], truncated };
    },
  };
}
