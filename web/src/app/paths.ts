/**
 * URLs of the UI's pages. An asset name may hold a slash (`namespace/name`), so what follows the
 * name comes after a `/-/` separator: `/models/acme/bot/-/versions/1.2.0`.
 */
import type { AssetKind } from '../../../src/contracts/asset-names.js';

export const COLLECTION: Record<AssetKind, 'models' | 'datasets' | 'prompts'> = { model: 'models', dataset: 'datasets', prompt: 'prompts' };

const encName = (name: string) => name.split('/').map(encodeURIComponent).join('/');

export const paths = {
  assets: (kind: AssetKind) => `/${COLLECTION[kind]}`,
  asset: (kind: AssetKind, name: string) => `/${COLLECTION[kind]}/${encName(name)}`,
  version: (kind: AssetKind, name: string, version: string, tab?: string) => `/${COLLECTION[kind]}/${encName(name)}/-/versions/${encodeURIComponent(version)}${tab ? `?tab=${tab}` : ''}`,
  compare: (kind: AssetKind, name: string, a: string, b: string) => `/${COLLECTION[kind]}/${encName(name)}/-/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`,
  run: (id: string) => `/evals/runs/${encodeURIComponent(id)}`,
  compareRuns: (a: string, b: string) => `/evals/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`,
  promotion: (id: string) => `/promotions/${encodeURIComponent(id)}`,
  deployment: (id: string) => `/deployments/${encodeURIComponent(id)}`,
  rollout: (id: string) => `/rollouts/${encodeURIComponent(id)}`,
};

export type AssetRoute = { name: string; page: 'asset' } | { name: string; page: 'version'; version: string } | { name: string; page: 'compare' } | null;

/** Reads the part of an asset URL after the collection (the router's splat). */
export function parseAssetPath(splat: string): AssetRoute {
  const [rawName, rest] = splat.split('/-/', 2) as [string, string | undefined];
  const name = rawName.replace(/\/+$/, '').split('/').map(decodeURIComponent).join('/');
  if (!name) return null;
  if (rest === undefined) return { name, page: 'asset' };
  const parts = rest.split('/').filter(Boolean);
  if (parts[0] === 'versions' && parts[1]) return { name, page: 'version', version: decodeURIComponent(parts[1]) };
  if (parts[0] === 'compare') return { name, page: 'compare' };
  return null;
}
