/**
 * Pure rules of the prompts feature on the server side: a prompt version's identity (digest of
 * its canonical spec), the bounded cache of compiled templates, the prompt-injection check run
 * on variables at render time, and the version diff (a Myers line diff of the template plus key
 * diffs of the model config and variables). Template parsing and rendering live in
 * `contracts/prompt-template.ts`, shared with the SDK.
 */
import { createHash } from 'node:crypto';
import type { PromptSpec, PromptTemplate, SafetyFinding, SafetyMode } from '../../contracts/prompts.js';

// ---- identity -----------------------------------------------------------------------------

/** JSON with object keys sorted at every level: equal specs give equal text. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** A prompt version has no files: its identity is the sha256 of its canonical spec. */
export function specDigest(spec: PromptSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(spec)).digest('hex')}`;
}

// ---- compiled-template cache ---------------------------------------------------------------

/** A least-recently-used map holding at most `max` entries. */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined && this.map.size > 1) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value as K);
    this.map.set(key, value);
  }

  get size(): number {
    return this.map.size;
  }
}

// ---- prompt-injection check ----------------------------------------------------------------

const SAFETY_ORDER: Record<SafetyMode, number> = { off: 0, warn: 1, block: 2 };
/** The stricter of two modes: a version's own setting is a floor a request cannot lower. */
export const stricter = (a: SafetyMode, b: SafetyMode): SafetyMode => (SAFETY_ORDER[a] >= SAFETY_ORDER[b] ? a : b);

/**
 * Lower case, compatibility forms folded (full-width letters, ligatures), zero-width and soft
 * hyphen characters dropped, runs of spaces made one; newlines kept for the line-start rules.
 */
export function normaliseForScan(s: string): string {
  // Plain ASCII (the common case) has nothing to fold or drop.
  const folded = /[^\t\n\r\x20-\x7e]/.test(s) ? s.normalize('NFKC').replace(/[\u200B-\u200D\u2060\uFEFF\u00AD]/g, '') : s;
  return folded.toLowerCase().replace(/[^\S\n]+/g, ' ');
}

const VERBS = '(?:ignore|disregard|forget|override|bypass|abandon|discard|neglect)';
const NOUNS = '(?:instructions?|prompts?|rules|directions|directives|guidelines|guidance|guardrails|constraints|programming|policies|system messages?|context)';
const VERB_WORDS = ['ignore', 'disregard', 'forget', 'override', 'bypass', 'abandon', 'discard', 'neglect'];
const QUALIFIERS = /\b(?:previous|prior|above|earlier|preceding|foregoing|initial|original|all|any|your|system|safety|these|those|every)\b/;

interface Rule {
  rule: SafetyFinding['rule'];
  /** Every match contains one of these: a text holding none skips the regex (most text, cheaply). */
  needs: readonly string[];
  re: RegExp;
  /** Extra condition on the matched text. */
  also?: RegExp;
}

/**
 * A fake conversation turn: a `user:`/`human:` line followed later by an `assistant:`/`ai:`/
 * `system:` line. Done in one pass: a regex spanning lines would rescan the rest of the text
 * from every `user:` line (quadratic on a large variable).
 */
function fakeTurn(s: string): string | null {
  const re = /(?:^|\n) ?(user|human|assistant|ai|system) ?:/g;
  let firstUser = -1;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m[1] === 'user' || m[1] === 'human') {
      if (firstUser < 0) firstUser = m.index;
    } else if (firstUser >= 0) {
      return s.slice(firstUser, m.index + m[0].length);
    }
  }
  return null;
}

/** Patterns of common prompt injections; each names the rule a finding reports. */
export const INJECTION_RULES: readonly Rule[] = [
  // "ignore all previous instructions", "disregard your rules", "override the system prompt"
  { rule: 'ignore-instructions', needs: VERB_WORDS, re: new RegExp(`\\b${VERBS}\\b(?: [\\w'-]+){0,4}? ${NOUNS}\\b`), also: QUALIFIERS },
  // "disregard the instructions you were given"
  { rule: 'ignore-instructions', needs: VERB_WORDS, re: new RegExp(`\\b${VERBS}\\b(?: [\\w'-]+){0,4}? ${NOUNS} (?:that )?you(?: were|'ve been| have been) (?:given|told|taught)\\b`) },
  // "forget everything you were told", "ignore everything above"
  { rule: 'ignore-instructions', needs: VERB_WORDS, re: new RegExp(`\\b${VERBS} (?:everything|all|anything)(?: that)? (?:above|before|prior|you (?:were|have been|'ve been) (?:told|given|taught))`) },
  // "ignore the above and instead say …"
  { rule: 'ignore-instructions', needs: VERB_WORDS, re: new RegExp(`\\b${VERBS} (?:all )?(?:of )?the above\\b[,.]? (?:and |but )?(?:instead|say|print|write|output|respond|reply|tell|answer|repeat)\\b`) },
  { rule: 'ignore-instructions', needs: ['instructions'], re: /\b(?:new|updated|revised|real|actual) (?:system )?instructions ?:/ },
  // Chat-format control tokens and role headers that try to open a new turn.
  { rule: 'role-marker', needs: ['<|', 'inst]', '<<', 'system>'], re: /<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|\[\/?inst\]|<<\/?sys>>|<\/?system>/ },
  { rule: 'role-marker', needs: ['system', 'developer'], re: /(?:^|\n) ?(?:#{1,4} ?)?(?:system|developer)(?: prompt| message)? ?:(?=[^\n]*\b(?:you|your|ignore|must|always|never|from now|instructions?|rules)\b)/ },
  // "reveal your system prompt", "print the hidden instructions", "repeat the words above"
  {
    rule: 'system-prompt-request', needs: ['prompt', 'instruction', 'message', 'rules', 'guidelines', 'directives'],
    re: /\b(?:reveal|show|print|display|output|repeat|recite|leak|dump|expose|share|give me|tell me|write out|spell out|send me|paste)\b(?: [\w'-]+){0,4}? (?:(?:your|the|this) (?:(?:full|entire|exact|original|initial|hidden|secret|complete|verbatim|internal) )*(?:system (?:prompt|message|instructions?)|(?:initial|original|hidden|secret|internal|developer|pre-?) ?(?:prompt|instructions?|message))|your (?:\w+ )?(?:instructions|prompt|rules|guidelines|directives))\b/,
  },
  { rule: 'system-prompt-request', needs: ['what'], re: /\bwhat (?:is|are|was|were) your (?:\w+ )?(?:system prompt|instructions|initial prompt|original instructions|rules)\b/ },
  // The model's own prompt named with "your": "what's in your system prompt", "the text of your initial prompt".
  { rule: 'system-prompt-request', needs: ['prompt', 'instructions', 'message'], re: /\byour (?:(?:full|entire|exact|complete|original|initial|hidden|secret|internal) )*(?:system (?:prompt|message)|(?:initial|original|hidden|secret|internal) (?:prompt|instructions)|pre-?prompt)\b/ },
  { rule: 'system-prompt-request', needs: ['repeat'], re: /\brepeat (?:all |everything |the (?:text|words|content|message|prompt)s? )(?:above|before|preceding)\b/ },
  // Persona jailbreaks: DAN, "developer mode", "without any restrictions".
  { rule: 'jailbreak', needs: ['dan', 'unrestricted', 'unfiltered', 'uncensored', 'jailbroken', 'amoral', 'developer mode', 'without'], re: /\b(?:you are|you're|act as|pretend (?:to be|you are)|roleplay as|behave (?:like|as)|become)\b(?: [\w'-]+){0,3}? (?:dan\b|an? (?:unrestricted|unfiltered|uncensored|jailbroken|amoral)|(?:in )?developer mode|without (?:any )?(?:restrictions|filters|limits|rules|guidelines|censorship))/ },
  { rule: 'jailbreak', needs: ['jailbroken', 'unrestricted', 'unfiltered', 'uncensored', 'unchained'], re: /\b(?:you are|you're) (?:now )?(?:jailbroken|unrestricted|unfiltered|uncensored|unchained)\b/ },
  { rule: 'jailbreak', needs: ['anything now', 'mode', 'bound by', 'ethical', 'moral', 'content', 'safety'], re: /\bdo anything now\b|\b(?:developer|god|dan) mode (?:enabled|activated)\b|\bnot bound by (?:any )?(?:rules|restrictions|guidelines|policies)\b|\b(?:no|without) (?:ethical|moral|content|safety) (?:guidelines|restrictions|filters|constraints)\b/ },
  { rule: 'jailbreak', needs: ['from now on'], re: /\bfrom now on,? you (?:are|will (?:act|respond|answer|be|only)|must (?:act|respond|answer|obey))\b/ },
];

/** Any word some rule needs (and the fake-turn check's): one pass that clears most text at once. */
const ANY_NEED = new RegExp([...new Set([...INJECTION_RULES.flatMap((r) => r.needs), 'user', 'human'])].map((w) => w.replace(/[|\\[\]().*+?^${}]/g, '\\$&')).join('|'));

/** The rules a text trips, each once, with the matching text. */
export function scanText(text: string): { rule: SafetyFinding['rule']; excerpt: string }[] {
  const s = normaliseForScan(text);
  if (!ANY_NEED.test(s)) return [];
  const out: { rule: SafetyFinding['rule']; excerpt: string }[] = [];
  const add = (rule: SafetyFinding['rule'], match: string) => {
    const excerpt = match.replace(/\s+/g, ' ').trim();
    out.push({ rule, excerpt: excerpt.length > 80 ? `${excerpt.slice(0, 79)}…` : excerpt });
  };
  for (const r of INJECTION_RULES) {
    if (out.some((f) => f.rule === r.rule) || !r.needs.some((w) => s.includes(w))) continue;
    const m = r.re.exec(s);
    if (m && (!r.also || r.also.test(m[0]))) add(r.rule, m[0]);
  }
  if (!out.some((f) => f.rule === 'role-marker') && (s.includes('user') || s.includes('human'))) {
    const turn = fakeTurn(s);
    if (turn) add('role-marker', turn);
  }
  return out;
}

// ---- diff ------------------------------------------------------------------------------------

export type DiffOp = { op: ' ' | '-' | '+'; line: string };

/**
 * Myers' O((N+M)·D) line diff, after trimming the common prefix and suffix. Past `maxEdits`
 * differing lines it stops searching for the shortest script and answers "all of a removed,
 * all of b added" for the middle: still a correct diff, and bounded in time and memory.
 */
export function diffLines(a: readonly string[], b: readonly string[], maxEdits = 2000): DiffOp[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const middle = myers(A, B, maxEdits) ?? [...A.map((line) => ({ op: '-' as const, line })), ...B.map((line) => ({ op: '+' as const, line }))];
  return [...a.slice(0, pre).map((line) => ({ op: ' ' as const, line })), ...middle, ...a.slice(a.length - suf).map((line) => ({ op: ' ' as const, line }))];
}

function myers(a: readonly string[], b: readonly string[], maxEdits: number): DiffOp[] | null {
  const n = a.length;
  const m = b.length;
  // trace[d][k + d] = furthest x on diagonal k after d edits.
  const trace: Int32Array[] = [];
  let prev = new Int32Array(1);
  let found = -1;
  for (let d = 0; d <= Math.min(n + m, maxEdits) && found < 0; d++) {
    const v = new Int32Array(2 * d + 1);
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (d === 0) x = 0;
      else if (k === -d || (k !== d && prev[k - 1 + d - 1]! < prev[k + 1 + d - 1]!)) x = prev[k + 1 + d - 1]!;
      else x = prev[k - 1 + d - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[k + d] = x;
      if (x >= n && y >= m) found = d;
    }
    trace.push(v);
    prev = v;
  }
  if (found < 0) return null;
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = found; d > 0; d--) {
    const pv = trace[d - 1]!;
    const k = x - y;
    const down = k === -d || (k !== d && pv[k - 1 + d - 1]! < pv[k + 1 + d - 1]!);
    const pk = down ? k + 1 : k - 1;
    const px = pv[pk + d - 1]!;
    const py = px - pk;
    while (x > px && y > py) {
      ops.push({ op: ' ', line: a[--x]! });
      y--;
    }
    if (down) ops.push({ op: '+', line: b[--y]! });
    else ops.push({ op: '-', line: a[--x]! });
  }
  while (x > 0 && y > 0) {
    ops.push({ op: ' ', line: a[--x]! });
    y--;
  }
  return ops.reverse();
}

/** `diff -u` text of an edit script, with `context` unchanged lines around each change. */
export function unifiedDiff(ops: readonly DiffOp[], from: string, to: string, context = 3): string {
  const changes = ops.flatMap((o, i) => (o.op === ' ' ? [] : [i]));
  if (!changes.length) return '';
  const out = [`--- ${from}`, `+++ ${to}`];
  // aLine[i]/bLine[i]: lines of a/b before op i.
  const aLine: number[] = [];
  const bLine: number[] = [];
  let ax = 0;
  let bx = 0;
  for (const o of ops) {
    aLine.push(ax);
    bLine.push(bx);
    if (o.op !== '+') ax++;
    if (o.op !== '-') bx++;
  }
  let c = 0;
  while (c < changes.length) {
    const start = Math.max(0, changes[c]! - context);
    let last = changes[c]!;
    while (c + 1 < changes.length && changes[c + 1]! - last <= 2 * context + 1) last = changes[++c]!;
    c++;
    const end = Math.min(ops.length, last + context + 1);
    const slice = ops.slice(start, end);
    const aCount = slice.filter((o) => o.op !== '+').length;
    const bCount = slice.filter((o) => o.op !== '-').length;
    const range = (first: number, count: number) => `${count === 0 ? first : first + 1}${count === 1 ? '' : `,${count}`}`;
    out.push(`@@ -${range(aLine[start]!, aCount)} +${range(bLine[start]!, bCount)} @@`);
    for (const o of slice) out.push(`${o.op}${o.line}`);
  }
  return `${out.join('\n')}\n`;
}

/** A template as lines for diffing: chat messages as "role: content", continuation lines indented. */
export function templateLines(t: PromptTemplate): string[] {
  if (t.type === 'text') return t.text.split('\n');
  return t.messages.flatMap((m) => {
    const head = `${m.role}${m.name ? `(${m.name})` : ''}:`;
    const [first = '', ...rest] = m.content.split('\n');
    return [first ? `${head} ${first}` : head, ...rest.map((l) => (l ? `${' '.repeat(head.length + 1)}${l}` : ''))];
  });
}

export interface KeyChange {
  key: string;
  change: 'added' | 'removed' | 'changed';
  before: unknown;
  after: unknown;
}

/** Key-by-key diff of two records, comparing values by canonical JSON. */
export function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): KeyChange[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const out: KeyChange[] = [];
  for (const key of keys) {
    const inA = Object.hasOwn(a, key) && a[key] !== undefined;
    const inB = Object.hasOwn(b, key) && b[key] !== undefined;
    if (inA && !inB) out.push({ key, change: 'removed', before: a[key], after: null });
    else if (!inA && inB) out.push({ key, change: 'added', before: null, after: b[key] });
    else if (inA && canonicalJson(a[key]) !== canonicalJson(b[key])) out.push({ key, change: 'changed', before: a[key], after: b[key] });
  }
  return out;
}
