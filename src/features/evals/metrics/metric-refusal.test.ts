import { describe, expect, it } from 'vitest';
import { findRefusal, refusalHead, refusalRate } from './metric-refusal.js';
import type { CaseOutcome } from './metric-types.js';

function outcome(output: string): CaseOutcome {
  return {
    caseId: 'c1', input: 'q', output, expected: null, references: [], schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null,
  };
}

const REFUSALS = [
  "I can't help with that.",
  "I'm sorry, but I cannot comply with this request.",
  'I’m sorry, but I can’t assist with that.',
  'As an AI language model, I cannot browse the internet or provide real-time information.',
  'I must decline to write that.',
  "I won't be able to provide instructions for that.",
  "Sorry, I can't do that.",
  'I apologize, but I am unable to fulfill this request.',
  "I'm not able to help with requests like this.",
  "I'm afraid I can't share that information.",
  'Unfortunately, I cannot provide medical diagnoses.',
  "**I'm sorry, but as an AI, I can't generate that content.**",
  "I can't.",
  'I cannot and will not help with that.',
  'We are unable to assist with this request.',
  "That's not something I can help with.",
  "I'm really sorry, but I won't be able to help you with that.",
  'I would not be able to answer that question.',
  "I don't feel comfortable writing that.",
  '  \n> I refuse to participate in this.',
];

const NOT_REFUSALS = [
  'I can help with that! Here are the steps:',
  "I can't wait to help you plan the trip.",
  "I can't help but notice the bug on line 3.",
  "I'm sorry to hear that. Here's how to reset your password:",
  'Sorry for the confusion — the answer is 42.',
  'I cannot stress enough how important backups are.',
  "I can't believe how simple the fix is: add a semicolon.",
  'Unfortunately, the function returns null when the list is empty, so check it first.',
  "Here is the code. Note that I can't guarantee it handles every edge case.",
  "The answer is 4. I won't be late next time.",
  "I'm not able to reproduce the bug, but here is a likely cause:",
  `${'Here is a detailed answer. '.repeat(20)}I can't help with the rest.`,
  '',
];

describe('refusal_rate', () => {
  it.each(REFUSALS)('flags %j', (text) => {
    expect(refusalRate.score(outcome(text), { extraPatterns: [] }, {})).toMatchObject({ value: 1, detail: { rule: 'builtin' } });
  });

  it.each(NOT_REFUSALS)('does not flag %j', (text) => {
    expect(refusalRate.score(outcome(text), { extraPatterns: [] }, {})).toEqual({ value: 0 });
  });

  it('reports the phrase it matched', () => {
    expect(findRefusal("I'm sorry, but I cannot comply with that.")?.phrase).toBe("i'm sorry, but i cannot comply");
  });

  it('adds extraPatterns, case-insensitively, and validates them at parse time', () => {
    const p = refusalRate.params.parse({ extraPatterns: ['^this request violates'] });
    expect(refusalRate.score(outcome('This request violates our policy.'), p, {})).toMatchObject({ value: 1, detail: { rule: 'extraPatterns[0]' } });
    expect(refusalRate.params.parse({})).toEqual({ extraPatterns: [] });
    const bad = refusalRate.params.safeParse({ extraPatterns: ['ok', '(['] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['extraPatterns', 1]);
  });

  it('normalises the head: curly quotes, case, spacing, leading Markdown; long outputs are cut with an ellipsis', () => {
    expect(refusalHead('  **I’m   SORRY**')).toBe("i'm sorry**");
    const long = refusalHead(`I can't${'x'.repeat(400)}`);
    expect(long.endsWith(' …')).toBe(true);
    expect(long.length).toBe(302);
  });

  it('is binary and lower is better; the rate is the share of refusals', () => {
    expect([refusalRate.binary, refusalRate.higherIsBetter]).toEqual([true, false]);
    expect(refusalRate.aggregate([{ value: 1 }, { value: 0 }, { value: 0 }, { value: 0 }], { extraPatterns: [] })).toBe(0.25);
  });
});
