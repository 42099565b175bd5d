/**
 * The prompt template engine, shared by the server (validation at push, rendering) and the SDK
 * (rendering a cached prompt while the server is away), so both give the same answer and the
 * same errors. Pure: no I/O, no clock; results are returned, never thrown.
 *
 * Syntax: `{{name}}` (spaces inside the braces allowed) is a placeholder; `\{{` and `\}}` are a
 * literal `{{` and `}}`. Anything else that looks like a placeholder is an error with its place:
 * an unclosed `{{`, a stray `}}`, `{{ }}`, `{{{x}}}`, `{{a b}}`, a placeholder across lines.
 */
import type { ChatRole, ModelConfig, PromptTemplate, PromptVariable, RenderedMessage, SafetyMode, VariableType } from './prompts.js';

/** Letters, digits and "_", not starting with a digit: what `{{name}}` may hold. */
export const VARIABLE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Property names of every JavaScript object: a variable named like one would shadow or poison
 * lookups in naive renderers (and `__proto__` cannot even travel in a JSON body safely).
 */
export const RESERVED_VARIABLE_NAMES: readonly string[] = [
  'constructor', 'prototype', '__proto__', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable',
  'toLocaleString', 'toString', 'valueOf', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__',
];
const RESERVED = new Set(RESERVED_VARIABLE_NAMES);

/** Why a variable name is reserved, or null. `__*` and `steward`/`steward_*` are kept for built-ins. */
export function reservedNameProblem(name: string): string | null {
  if (name.startsWith('__')) return `variable name ${name} is reserved: names starting with "__" are kept for the engine`;
  if (/^steward(_|$)/i.test(name)) return `variable name ${name} is reserved: "steward" and "steward_*" are kept for built-in variables`;
  if (RESERVED.has(name)) return `variable name ${name} is reserved: it is a JavaScript object property`;
  return null;
}

export interface TemplateIssue {
  path: (string | number)[];
  message: string;
  line?: number;
  column?: number;
}

interface SpecShape {
  template: PromptTemplate;
  variables?: PromptVariable[] | undefined;
  modelConfig?: ModelConfig | undefined;
  safety?: SafetyMode | undefined;
}

/** One template string, split: literals[0] names[0] literals[1] … literals[n]. */
interface ParsedString {
  literals: string[];
  names: string[];
  at: { line: number; column: number }[];
}

/** Line and column (1-based) of offsets asked in increasing order: linear over the whole text. */
function locator(src: string): (offset: number) => { line: number; column: number } {
  let pos = 0;
  let line = 1;
  let start = 0;
  return (offset) => {
    if (offset < pos) [pos, line, start] = [0, 1, 0];
    for (let i = src.indexOf('\n', pos); i !== -1 && i < offset; i = src.indexOf('\n', i + 1)) {
      line++;
      start = i + 1;
    }
    pos = offset;
    return { line, column: offset - start + 1 };
  };
}

const TOKEN = /\\\{\{|\\\}\}|\{\{|\}\}/g;
/** Problems reported per spec at most: enough to fix a template, bounded for a hostile one. */
export const MAX_ISSUES = 50;

/** Parses one template string; problems go to `issues` prefixed with `where` (e.g. "messages[2] (user)"). */
function parseString(src: string, where: string, path: (string | number)[], issues: TemplateIssue[]): ParsedString {
  const out: ParsedString = { literals: [], names: [], at: [] };
  const lineColumn = locator(src);
  const issue = (offset: number, what: string) => {
    const p = lineColumn(offset);
    issues.push({ path, line: p.line, column: p.column, message: `${where}line ${p.line}, column ${p.column}: ${what}` });
  };
  const re = new RegExp(TOKEN.source, 'g');
  let lit = '';
  let last = 0;
  // The first "}}" at or after a position; kept between placeholders so that many "{{" before
  // one far "}}" do not each scan to it (quadratic on a large template).
  let nextClose = -2;
  const closeAfter = (from: number) => {
    if (nextClose !== -1 && nextClose < from) nextClose = src.indexOf('}}', from);
    return nextClose;
  };
  for (let m = re.exec(src); m && issues.length < MAX_ISSUES; m = re.exec(src)) {
    const i = m.index;
    lit += src.slice(last, i);
    const tok = m[0];
    if (tok.length === 3) {
      lit += tok.slice(1); // an escaped "{{" or "}}"
      last = i + 3;
      continue;
    }
    if (tok === '}}') {
      issue(i, 'unmatched "}}" (write \\}} for a literal "}}")');
      lit += tok;
      last = i + 2;
      continue;
    }
    const close = closeAfter(i + 2);
    if (src.charCodeAt(i + 2) === 123 /* { */) {
      issue(i, 'triple braces "{{{": a placeholder is {{name}}; write \\{{ for a literal "{{"');
      last = close === -1 ? src.length : close + 2;
      re.lastIndex = last;
      continue;
    }
    if (close === -1) {
      issue(i, '"{{" is never closed with "}}" (write \\{{ for a literal "{{")');
      last = src.length;
      break;
    }
    const reopen = src.indexOf('{{', i + 2);
    if (reopen !== -1 && reopen < close) {
      const start = lineColumn(i);
      const p = lineColumn(reopen);
      issues.push({ path, ...start, message: `${where}line ${start.line}, column ${start.column}: "{{" is not closed before the next "{{" at line ${p.line}, column ${p.column}` });
      last = reopen;
      re.lastIndex = reopen;
      continue;
    }
    const inner = src.slice(i + 2, close);
    const name = inner.trim();
    const reserved = VARIABLE_NAME_RE.test(name) ? reservedNameProblem(name) : null;
    if (inner.includes('\n')) issue(i, 'a placeholder must not span lines');
    else if (!name) issue(i, 'empty placeholder "{{}}"');
    else if (!VARIABLE_NAME_RE.test(name)) issue(i, `placeholder {{${inner}}}: ${JSON.stringify(name)} is not a variable name (letters, digits and "_", not starting with a digit)`);
    else if (reserved) issue(i, `placeholder {{${inner}}}: ${reserved}`);
    else {
      out.literals.push(lit);
      out.names.push(name);
      out.at.push(lineColumn(i));
      lit = '';
    }
    last = close + 2;
    re.lastIndex = last;
  }
  out.literals.push(lit + src.slice(last));
  return out;
}

interface ParsedTemplate {
  kind: 'text' | 'chat';
  parts: { role: ChatRole; name?: string | undefined; where: string; path: (string | number)[]; parsed: ParsedString }[];
}

function parseTemplate(t: PromptTemplate, issues: TemplateIssue[]): ParsedTemplate {
  if (t.type === 'text') {
    const path = ['template', 'text'];
    return { kind: 'text', parts: [{ role: 'user', where: 'text ', path, parsed: parseString(t.text, 'text ', path, issues) }] };
  }
  return {
    kind: 'chat',
    parts: t.messages.map((m, i) => {
      const where = `messages[${i}] (${m.role}) `;
      const path = ['template', 'messages', i, 'content'];
      return { role: m.role, name: m.name, where, path, parsed: parseString(m.content, where, path, issues) };
    }),
  };
}

/** "must be an integer, got the string "3"": the value described for an error message. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Why `v` does not fit the declaration, or null. */
export function valueProblem(decl: { type: VariableType; enum?: readonly string[] | undefined; maxLength?: number | undefined }, v: unknown): string | null {
  switch (decl.type) {
    case 'string':
      if (typeof v !== 'string') return `must be a string, got ${describe(v)}`;
      if (decl.maxLength !== undefined && v.length > decl.maxLength) return `must be at most ${decl.maxLength} characters, got ${v.length}`;
      if (decl.enum && !decl.enum.includes(v)) return `must be one of ${decl.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${describe(v)}`;
      return null;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `must be a number, got ${describe(v)}`;
    case 'integer':
      return Number.isSafeInteger(v) ? null : `must be an integer, got ${describe(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be a boolean, got ${describe(v)}`;
    case 'json':
      return v === undefined ? 'must be a JSON value' : null;
  }
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment), case-insensitive. */
function editDistance(x: string, y: string): number {
  const a = x.toLowerCase();
  const b = y.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest known name when it is close enough to be a likely typo. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  if (name.length > 64) return undefined;
  let best: string | undefined;
  let bestD = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** Every problem of a spec beyond its shape: placeholders, declarations, defaults. */
export function analyseSpec(spec: SpecShape): { issues: TemplateIssue[] } {
  const issues: TemplateIssue[] = [];
  const parsed = parseTemplate(spec.template, issues);
  const vars = spec.variables;
  if (!vars) return { issues };
  const declared = new Set<string>();
  vars.forEach((v, i) => {
    const path = ['variables', i];
    if (declared.has(v.name)) issues.push({ path: [...path, 'name'], message: `variable ${v.name} is declared twice` });
    declared.add(v.name);
    if ((v.enum || v.maxLength !== undefined) && v.type !== 'string') issues.push({ path, message: `variable ${v.name}: enum and maxLength apply to type string only` });
    if (v.default !== undefined) {
      if (v.required === true) issues.push({ path: [...path, 'default'], message: `variable ${v.name} is required and has a default, which would never be used; drop one` });
      const problem = valueProblem(v, v.default);
      if (problem) issues.push({ path: [...path, 'default'], message: `default of variable ${v.name} ${problem}` });
    }
  });
  for (const part of parsed.parts) {
    part.parsed.names.forEach((n, j) => {
      if (declared.has(n)) return;
      const at = part.parsed.at[j]!;
      const hint = suggest(n, declared);
      issues.push({
        path: part.path,
        line: at.line,
        column: at.column,
        message: `${part.where}line ${at.line}, column ${at.column}: {{${n}}} is not declared in variables${hint ? ` (did you mean ${hint}?)` : ''}`,
      });
    });
  }
  return { issues: issues.slice(0, MAX_ISSUES) };
}

export interface CompiledVariable {
  name: string;
  type: VariableType;
  required: boolean;
  /** The default as rendered text; null when there is none. */
  defaultText: string | null;
  enum: readonly string[] | undefined;
  maxLength: number | undefined;
  trusted: boolean;
}

export interface CompiledMessage {
  role: ChatRole;
  name: string | undefined;
  literals: readonly string[];
  /** Index into `variables` of each placeholder, between the literals. */
  slots: readonly number[];
}

export interface CompiledPrompt {
  kind: 'text' | 'chat';
  variables: readonly CompiledVariable[];
  index: ReadonlyMap<string, number>;
  messages: readonly CompiledMessage[];
}

/** The text a value becomes in the prompt. */
export function formatValue(type: VariableType, v: unknown): string {
  return type === 'string' ? (v as string) : type === 'json' ? JSON.stringify(v) : String(v);
}

/** Compiles a spec into literal/slot arrays; answers the issues instead when it is not valid. */
export function compilePrompt(spec: SpecShape): { ok: true; prompt: CompiledPrompt } | { ok: false; issues: TemplateIssue[] } {
  const { issues } = analyseSpec(spec);
  if (issues.length) return { ok: false, issues };
  const parsed = parseTemplate(spec.template, []);
  const variables: CompiledVariable[] = [];
  const index = new Map<string, number>();
  const add = (v: CompiledVariable) => {
    index.set(v.name, variables.length);
    variables.push(v);
  };
  if (spec.variables) {
    for (const v of spec.variables) {
      const hasDefault = v.default !== undefined;
      add({
        name: v.name,
        type: v.type,
        required: v.required ?? !hasDefault,
        defaultText: hasDefault ? formatValue(v.type, v.default) : null,
        enum: v.enum,
        maxLength: v.maxLength,
        trusted: v.trusted ?? false,
      });
    }
  } else {
    // No declarations: every placeholder is a required string, in order of first use.
    for (const p of parsed.parts) for (const n of p.parsed.names) if (!index.has(n)) add({ name: n, type: 'string', required: true, defaultText: null, enum: undefined, maxLength: undefined, trusted: false });
  }
  const messages = parsed.parts.map((p) => ({ role: p.role, name: p.name, literals: p.parsed.literals, slots: p.parsed.names.map((n) => index.get(n)!) }));
  return { ok: true, prompt: { kind: parsed.kind, variables, index, messages } };
}

/** Render-time problems, as `details` of the API's error (`missing` alone means blobs in this API). */
export interface VariableProblems {
  missingVariables: string[];
  unknownVariables: { name: string; suggestion?: string }[];
  mistypedVariables: { name: string; problem: string }[];
  issues: { path: string; message: string }[];
}

export type BindResult =
  | { ok: true; values: string[]; supplied: boolean[] }
  | { ok: false; message: string; problems: VariableProblems };

/** Checks the caller's variables against the declarations and turns them into text. */
export function bindVariables(c: CompiledPrompt, given: Record<string, unknown>): BindResult {
  const n = c.variables.length;
  const values = new Array<string>(n);
  const supplied = new Array<boolean>(n).fill(false);
  const bad = new Array<boolean>(n).fill(false);
  const p: VariableProblems = { missingVariables: [], unknownVariables: [], mistypedVariables: [], issues: [] };
  let failed = false;
  for (const key of Object.keys(given)) {
    const i = c.index.get(key);
    if (i === undefined) {
      // Bounded: a body with thousands of stray keys must not buy thousands of edit distances.
      if (p.unknownVariables.length < MAX_ISSUES) {
        const suggestion = p.unknownVariables.length < 10 ? suggest(key, c.index.keys()) : undefined;
        p.unknownVariables.push(suggestion ? { name: key, suggestion } : { name: key });
      }
      failed = true;
      continue;
    }
    const decl = c.variables[i]!;
    const v = given[key];
    const problem = valueProblem(decl, v);
    if (problem) {
      p.mistypedVariables.push({ name: key, problem });
      bad[i] = failed = true;
      continue;
    }
    values[i] = formatValue(decl.type, v);
    supplied[i] = true;
  }
  for (let i = 0; i < n; i++) {
    if (supplied[i] || bad[i]) continue;
    const decl = c.variables[i]!;
    if (decl.defaultText !== null) values[i] = decl.defaultText;
    else if (!decl.required) values[i] = '';
    else {
      p.missingVariables.push(decl.name);
      failed = true;
    }
  }
  if (!failed) return { ok: true, values, supplied };
  const parts: string[] = [];
  if (p.missingVariables.length) parts.push(`missing required variable(s) ${p.missingVariables.join(', ')}`);
  if (p.unknownVariables.length) parts.push(`unknown variable(s) ${p.unknownVariables.map((u) => (u.suggestion ? `${u.name} (did you mean ${u.suggestion}?)` : u.name)).join(', ')}`);
  for (const m of p.mistypedVariables) parts.push(`variable ${m.name} ${m.problem}`);
  p.issues = [
    ...p.missingVariables.map((name) => ({ path: `variables.${name}`, message: `missing required variable ${name}` })),
    ...p.unknownVariables.map((u) => ({ path: `variables.${u.name}`, message: `unknown variable ${u.name}${u.suggestion ? ` (did you mean ${u.suggestion}?)` : ''}` })),
    ...p.mistypedVariables.map((m) => ({ path: `variables.${m.name}`, message: `variable ${m.name} ${m.problem}` })),
  ];
  return { ok: false, message: `cannot render: ${parts.join('; ')}`, problems: p };
}

/** Fills the slots. A text template renders as one user message and its text. */
export function renderCompiled(c: CompiledPrompt, values: readonly string[]): { messages: RenderedMessage[]; text?: string } {
  const messages: RenderedMessage[] = new Array(c.messages.length);
  for (let k = 0; k < c.messages.length; k++) {
    const m = c.messages[k]!;
    let s = m.literals[0]!;
    for (let j = 0; j < m.slots.length; j++) s += values[m.slots[j]!]! + m.literals[j + 1]!;
    messages[k] = m.name === undefined ? { role: m.role, content: s } : { role: m.role, content: s, name: m.name };
  }
  return c.kind === 'text' ? { messages, text: messages[0]!.content } : { messages };
}
