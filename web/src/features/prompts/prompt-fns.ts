/** Reading a prompt version's spec (its metadata) for display and for the playground. Pure. */
import type { PromptSpec, PromptVariable } from '../../../../src/contracts/prompts.js';

/** The spec of a prompt version, or null when its metadata holds none. */
export function promptSpec(metadata: Record<string, unknown>): PromptSpec | null {
  const t = metadata.template as { type?: string } | undefined;
  return t && (t.type === 'text' || t.type === 'chat') ? (metadata as unknown as PromptSpec) : null;
}

/** The variables to ask for: the declared ones, else every placeholder as a required string. */
export function playgroundVariables(spec: PromptSpec): PromptVariable[] {
  if (spec.variables?.length) return spec.variables;
  const texts = spec.template.type === 'text' ? [spec.template.text] : spec.template.messages.map((m) => m.content);
  const names = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g)) names.add(m[1]!);
  return [...names].map((name) => ({ name, type: 'string' as const }));
}

/** Typed values from the playground's text inputs; empty inputs are left out (the default applies). */
export function variableValues(vars: PromptVariable[], inputs: Record<string, string>): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const v of vars) {
    const raw = inputs[v.name];
    if (raw === undefined || raw === '') continue;
    if (v.type === 'number' || v.type === 'integer') {
      const n = Number(raw);
      if (!Number.isFinite(n) || (v.type === 'integer' && !Number.isInteger(n))) errors[v.name] = `${v.name} must be ${v.type === 'integer' ? 'an integer' : 'a number'}`;
      else values[v.name] = n;
    } else if (v.type === 'boolean') {
      values[v.name] = raw === 'true';
    } else if (v.type === 'json') {
      try {
        values[v.name] = JSON.parse(raw);
      } catch {
        errors[v.name] = `${v.name} must be JSON`;
      }
    } else values[v.name] = raw;
  }
  return { values, errors };
}

/** Splits a template into text and `{{ placeholder }}` parts, for highlighting. */
export function templateParts(text: string): { text: string; variable: boolean }[] {
  const out: { text: string; variable: boolean }[] = [];
  let last = 0;
  for (const m of text.matchAll(/\{\{[^}]*\}\}/g)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index), variable: false });
    out.push({ text: m[0], variable: true });
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last), variable: false });
  return out;
}
