import { describe, expect, it } from 'vitest';
import { contains, exactMatch, regex } from './metric-match.js';
import type { CaseOutcome } from './metric-types.js';

function outcome(output: string, references: string[] = []): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output, expected: references[0] ?? null, references, schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null,
  };
}

describe('exact_match', () => {
  const p = (x: object = {}) => exactMatch.params.parse(x);

  it('uses SQuAD normalisation by default: case, punctuation, articles and spacing do not matter', () => {
    expect(exactMatch.score(outcome('The  Eiffel Tower!', ['eiffel tower']), p(), {})).toEqual({ value: 1, detail: { matchedReference: 0 } });
    expect(exactMatch.score(outcome('Eiffel', ['eiffel tower']), p(), {})).toEqual({ value: 0 });
  });

  it('passes when any reference matches and says which', () => {
    expect(exactMatch.score(outcome('Paris', ['Lyon', 'paris.']), p(), {})).toEqual({ value: 1, detail: { matchedReference: 1 } });
  });

  it('normalize none compares exactly; trim ignores outer whitespace; ignoreCase folds case', () => {
    expect(exactMatch.score(outcome(' Paris', ['Paris']), p({ normalize: 'none' }), {})).toEqual({ value: 0 });
    expect(exactMatch.score(outcome(' Paris\n', ['Paris']), p({ normalize: 'trim' }), {})).toMatchObject({ value: 1 });
    expect(exactMatch.score(outcome('PARIS', ['Paris']), p({ normalize: 'trim' }), {})).toEqual({ value: 0 });
    expect(exactMatch.score(outcome('PARIS', ['Paris']), p({ normalize: 'trim', ignoreCase: true }), {})).toMatchObject({ value: 1 });
  });

  it('cannot score a case without references', () => {
    expect(exactMatch.score(outcome('x'), p(), {})).toEqual({ value: null, error: 'case has no expected output or references' });
  });

  it('rejects unknown params (strict)', () => {
    expect(exactMatch.params.safeParse({ normalise: 'trim' }).success).toBe(false);
  });

  it('aggregates to the pass rate', () => {
    expect(exactMatch.aggregate([{ value: 1 }, { value: 0 }, { value: 1 }, { value: 1 }], p())).toBe(0.75);
  });
});

describe('contains', () => {
  const p = (x: object = {}) => contains.params.parse(x);

  it('looks for any reference, ignoring case by default', () => {
    expect(contains.score(outcome('The capital is PARIS.', ['paris', 'lyon']), p(), {})).toEqual({ value: 1, detail: { found: 1, of: 2 } });
    expect(contains.score(outcome('The capital is Rome.', ['paris']), p(), {})).toMatchObject({ value: 0 });
  });

  it('mode all needs every needle', () => {
    const o = outcome('alpha beta', ['alpha', 'gamma']);
    expect(contains.score(o, p({ mode: 'all' }), {})).toEqual({ value: 0, detail: { found: 1, of: 2 } });
    expect(contains.score(outcome('alpha gamma', ['alpha', 'gamma']), p({ mode: 'all' }), {})).toMatchObject({ value: 1 });
  });

  it('uses `values` instead of references when given', () => {
    expect(contains.score(outcome('see README.md'), p({ values: ['readme'] }), {})).toMatchObject({ value: 1 });
    expect(contains.score(outcome('see README.md'), p({ values: ['readme'], ignoreCase: false }), {})).toMatchObject({ value: 0 });
  });

  it('skips empty references and refuses empty needles', () => {
    expect(contains.score(outcome('anything', ['']), p(), {})).toEqual({ value: null, error: 'case has no expected output or references' });
    expect(contains.params.safeParse({ values: [''] }).success).toBe(false);
  });
});

describe('regex', () => {
  const p = (x: object) => regex.params.parse(x);

  it('searches the output by default and can require a full match', () => {
    expect(regex.score(outcome('Order #12345 shipped'), p({ pattern: '#\\d{5}\\b' }), {})).toEqual({ value: 1 });
    expect(regex.score(outcome('Order #12345 shipped'), p({ pattern: '#\\d{5}', fullMatch: true }), {})).toEqual({ value: 0 });
    expect(regex.score(outcome('#12345'), p({ pattern: '#\\d{5}', fullMatch: true }), {})).toEqual({ value: 1 });
  });

  it('fullMatch wraps alternations as a group, so a|b must match the whole output', () => {
    expect(regex.score(outcome('yes!'), p({ pattern: 'yes|no', fullMatch: true }), {})).toEqual({ value: 0 });
    expect(regex.score(outcome('no'), p({ pattern: 'yes|no', fullMatch: true }), {})).toEqual({ value: 1 });
  });

  it('applies flags', () => {
    expect(regex.score(outcome('HELLO'), p({ pattern: '^hello$' }), {})).toEqual({ value: 0 });
    expect(regex.score(outcome('HELLO'), p({ pattern: '^hello$', flags: 'i' }), {})).toEqual({ value: 1 });
  });

  it('fails at parse time on an invalid pattern, a missing pattern, or stateful flags', () => {
    const bad = regex.params.safeParse({ pattern: '(unclosed' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['pattern']);
    expect(bad.error?.issues[0]?.message).toMatch(/^invalid regular expression: .*unterminated group/i);
    expect(regex.params.safeParse({}).success).toBe(false);
    expect(regex.params.safeParse({ pattern: 'a', flags: 'g' }).success).toBe(false);
    expect(regex.params.safeParse({ pattern: 'x'.repeat(1001) }).success).toBe(false);
  });

  it('does not run on outputs over maxInputChars: null with an error, not a verdict', () => {
    const r = regex.score(outcome('a'.repeat(101)), p({ pattern: 'b', maxInputChars: 100 }), {});
    expect(r.value).toBeNull();
    expect((r as { error: string }).error).toMatch(/101 characters, over the regex metric's limit of 100/);
  });
});
