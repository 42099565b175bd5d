/**
 * Naming rules of the assets feature that need no schema library: asset kinds and their URL
 * collections, namespaces, semantic versions and manifest paths. assets.ts builds its zod
 * schemas on them and re-exports them; the CLI and the SDK import them from here, so a command
 * that validates nothing with zod does not load it (a third of the CLI's start-up).
 */

export const ASSET_KINDS = ['model', 'dataset', 'prompt'] as const;
export type AssetKind = (typeof ASSET_KINDS)[number];
/** URL collection for each kind. */
export const ASSET_COLLECTION: Record<AssetKind, string> = { model: 'models', dataset: 'datasets', prompt: 'prompts' };

// A name segment: letters, digits, ".", "_", "-"; starts with a letter or digit (Hugging Face style).
const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]*';
export const NAME_RE = new RegExp(`^${SEGMENT}(/${SEGMENT})?$`);
/** The namespace of an asset name ("ns/name" → "ns"); null for a bare name or anything that is not a string. */
export function namespaceOf(name: unknown): string | null {
  return typeof name === 'string' && name.includes('/') ? name.slice(0, name.indexOf('/')) : null;
}

// semver.org 2.0.0, with an optional leading "v" that is dropped.
const SEMVER_RE =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export interface ParsedVersion {
  major: number;
  minor: number;
  patch: number;
  prerelease: string | null;
  build: string | null;
  /** The normalised text: no leading "v". */
  text: string;
}

export function parseSemver(input: string): ParsedVersion | null {
  if (input.length > 64) return null;
  const m = SEMVER_RE.exec(input);
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![major, minor, patch].every(Number.isSafeInteger)) return null;
  return { major, minor, patch, prerelease: m[4] ?? null, build: m[5] ?? null, text: input.replace(/^v/, '') };
}

/** Why a manifest path is unsafe, or null when it is fine. */
export function filePathProblem(p: string): string | null {
  if (p.length === 0) return 'is empty';
  if (p.length > 1024) return 'is longer than 1024 characters';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.includes('\\')) return 'contains a backslash';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return 'contains ".."';
  if (parts.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  return null;
}
