/**
 * What an evaluation run reads of the registry, and whether the principal it runs for may read
 * it. A run follows references its creator never typed into the request: the suite's
 * `request.prompt` and each case's `prompt.ref` are rendered and sent to an endpoint the creator
 * chooses, and the answers are stored as results. So a token limited to some namespaces could
 * read another namespace's prompt through a suite of its own. Every reference is therefore
 * checked against the principal's namespaces when the run is created or resumed and again when
 * it executes (the job runs later: the token may have been narrowed or revoked meanwhile).
 */
import { namespaceGranted, parseAssetRef, type AssetKind } from '../../contracts/asset-names.js';
import type { EvalSuiteSpec, ParsedCase } from '../../contracts/evals.js';
import { AppError } from '../../platform/errors.js';

/** One registry asset a run reads, and where the run names it. */
export interface RunReference {
  kind: AssetKind;
  /** `NAME[:REF]` as written. */
  ref: string;
  /** Where it is named, for the error: `model`, `suite`, `suite S request.prompt`, `suite S case "c1" (line 3)`. */
  where: string;
}

/** Every registry asset a run of `suite` (NAME:VERSION) against `model` reads: the model, the suite and each prompt. */
export function runReferences(model: string, suite: string, spec: EvalSuiteSpec, cases: readonly ParsedCase[]): RunReference[] {
  const out: RunReference[] = [
    { kind: 'model', ref: model, where: 'model' },
    { kind: 'dataset', ref: suite, where: 'suite' },
  ];
  if (spec.request.prompt !== undefined) out.push({ kind: 'prompt', ref: spec.request.prompt, where: `suite ${suite} request.prompt` });
  for (const c of cases) {
    if (c.prompt?.ref !== undefined) out.push({ kind: 'prompt', ref: c.prompt.ref, where: `suite ${suite} case ${JSON.stringify(c.id)} (line ${c.line})` });
  }
  return out;
}

/**
 * Whether `namespaces` (null: unrestricted) let a run read `ref`. A reference is read by the one
 * parser the lookup uses, so what is checked is what is fetched; a malformed one names no
 * namespace and is refused to a limited principal (its lookup would fail anyway).
 */
export function referenceGranted(ref: string, namespaces: readonly string[] | null): boolean {
  if (namespaces === null) return true;
  const r = parseAssetRef(ref);
  return typeof r !== 'string' && namespaceGranted(r.name, namespaces);
}

/** The first reference outside `namespaces`, or null when the run may read them all. */
export function firstRefused(refs: readonly RunReference[], namespaces: readonly string[] | null): RunReference | null {
  return namespaces === null ? null : (refs.find((r) => !referenceGranted(r.ref, namespaces)) ?? null);
}

const KIND_WORD: Record<AssetKind, string> = { model: 'model', dataset: 'dataset', prompt: 'prompt' };

/** The 403 for a reference the principal may not read, naming it and where it is named. */
export function referenceRefused(ref: RunReference, namespaces: readonly string[], who: string): AppError {
  const what = ref.where === 'model' || ref.where === 'suite' ? `${ref.where} ${ref.ref}` : `${ref.where} refers to ${KIND_WORD[ref.kind]} ${ref.ref}, which`;
  return new AppError(
    'permission_denied',
    `${what} is outside the namespaces ${who} may read (${namespaces.join(', ') || 'none'}); a run reads only assets in them: use a suite and prompts of those namespaces, or a token granted the other one`,
    { reference: ref.ref, kind: ref.kind, where: ref.where, namespaces: [...namespaces] },
  );
}
