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

/**
 * Whether a token limited to `namespaces` (null: not limited) may read the asset `name`. As
 * everywhere, a limited token reaches only names inside its namespaces, never bare names.
 */
export function namespaceGranted(name: string, namespaces: readonly string[] | null): boolean {
  if (namespaces === null) return true;
  const ns = namespaceOf(name);
  return ns !== null && namespaces.includes(ns);
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

/**
 * A manifest path as it is stored, compared and hashed into the version's digest: Unicode NFC, so
 * the decomposed spelling some file systems give (macOS: "e" + U+0301) and the composed one ("é")
 * are one path. The server stores what this returns; the SDK sends it.
 */
export function normalizeFilePath(p: string): string {
  return p.normalize('NFC');
}

/** Control characters (C0, DEL, C1) and lone surrogates (text that is not Unicode). */
const FORBIDDEN_CHAR = /[\p{Cc}\p{Cs}]/u;

function pathShapeProblem(p: string): string | null {
  if (p.includes('\\')) return 'contains a backslash';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  const parts = p.split('/');
  if (parts.some((s) => s === '..')) return 'contains ".."';
  if (parts.some((s) => s === '' || s === '.')) return 'has an empty or "." segment';
  return null;
}

/**
 * Why a manifest path is unsafe, or null when it is fine. Checked on the NFC form (what is
 * stored). Beyond the shape (relative, "/"-separated, no "." or ".." segment) the path must
 * keep that shape once Unicode compatibility characters are folded (NFKC), so fullwidth dots
 * ("．．/x") or a fullwidth solidus cannot become ".." or "/" in a tool that folds them.
 */
export function filePathProblem(p: string): string | null {
  if (p.length === 0) return 'is empty';
  if (p.length > 1024) return 'is longer than 1024 characters';
  if (p.includes('\0')) return 'contains a NUL byte';
  const bad = FORBIDDEN_CHAR.exec(p)?.[0];
  if (bad !== undefined) {
    const code = `U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    return /\p{Cs}/u.test(bad) ? `contains a lone surrogate (${code}): it is not valid Unicode text` : `contains the control character ${code}`;
  }
  const shape = pathShapeProblem(p);
  if (shape) return shape;
  const folded = p.normalize('NFKC');
  const foldedShape = folded === p ? null : pathShapeProblem(folded);
  if (foldedShape) return `${foldedShape} once its compatibility characters are folded (NFKC: ${JSON.stringify(folded.slice(0, 200))})`;
  return null;
}

/** The namespace of the name in a `NAME[:REF]` text, read by `parseAssetRef` (null for a bare name, a malformed reference or a non-string). */
export function namespaceOfRef(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  const r = parseAssetRef(text);
  return typeof r === 'string' ? null : namespaceOf(r.name);
}

/** A `NAME[:REF]` reference: REF is a version or an alias or `latest`; null when the text has none. */
export interface AssetRef {
  name: string;
  ref: string | null;
}

// A version (semver, optional "v", pre-release and build) or an alias or "latest".
const REF_RE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

/**
 * The one parser of `NAME[:REF]` (API bodies and queries, namespace scopes, CLI arguments,
 * lineage pointers, prompt references of evaluation suites). Surrounding whitespace is trimmed;
 * the name must be a valid asset name and the ref a version or alias, so whatever a namespace
 * check reads from the text is exactly what a lookup will use. A name holds no ":" (it may hold
 * one "/"), nor does a ref, so the last ":" splits them. Returns the problem as text when the
 * reference is malformed (empty or invalid name or ref, or a required ref missing), so each
 * caller raises it as its own kind of error.
 */
export function parseAssetRef(input: string, opts: { requireRef?: boolean; defaultRef?: string } = {}): AssetRef | string {
  const text = input.trim();
  const i = text.lastIndexOf(':');
  const shape = opts.requireRef && opts.defaultRef === undefined ? 'NAME:VERSION or NAME:ALIAS' : 'NAME or NAME:REF';
  const bad = (why = '') => `${JSON.stringify(input)} must look like ${shape}${why}`;
  const name = i < 0 ? text : text.slice(0, i);
  const ref = i < 0 ? null : text.slice(i + 1);
  if (!name || ref === '') return bad();
  if (name.length > 128 || !NAME_RE.test(name)) return bad(' (NAME: letters, digits, ".", "_" and "-", at most one "/")');
  if (ref !== null && !REF_RE.test(ref)) return bad(' (REF: a version such as 1.2.0, an alias or latest)');
  if (ref !== null) return { name, ref };
  if (opts.defaultRef !== undefined) return { name, ref: opts.defaultRef };
  if (opts.requireRef) return bad();
  return { name, ref: null };
}
