import { describe, expect, it } from 'vitest';
import { OpenAIError } from '../../../platform/openai/openai-errors.js';
import type { ChatResult } from '../../../platform/openai/openai-types.js';
import { createJudgeCall, judgeMessages, llmJudge, parseJudgeReply } from './metric-judge.js';
import type { CaseOutcome, OutcomeMessage, ScoreContext } from './metric-types.js';

function outcome(o: Partial<CaseOutcome> = {}): CaseOutcome {
  return {
    caseId: 'c1', input: 'What is 2 + 2?', output: '4', expected: '4', references: ['4'], schema: null, tags: [],
    latencyMs: 100, ttftMs: null, inputTokens: null, outputTokens: null, logprobs: null, ...o,
  };
}

/** A judge that records what it was sent and answers with a fixed reply. */
function fakeJudge(reply: string | Error): { ctx: ScoreContext; calls: OutcomeMessage[][] } {
  const calls: OutcomeMessage[][] = [];
  return {
    calls,
    ctx: {
      judge: async (messages) => {
        calls.push(messages);
        if (reply instanceof Error) throw reply;
        return reply;
      },
    },
  };
}

const params = llmJudge.params.parse({ rubric: 'Is the answer correct and concise?' });

describe('parseJudgeReply', () => {
  it('reads a bare JSON object, a fenced one, or one inside prose', () => {
    expect(parseJudgeReply('{"score": 4, "reasoning": "right"}')).toEqual({ score: 4, reasoning: 'right' });
    expect(parseJudgeReply('```json\n{"score": 2.5, "reasoning": "meh"}\n```')).toEqual({ score: 2.5, reasoning: 'meh' });
    expect(parseJudgeReply('Let me think. The answer is fine.\n{"reasoning": "ok {braces} inside", "score": "5"} done')).toEqual({ score: 5, reasoning: 'ok {braces} inside' });
  });

  it('takes the last scored object, and a nested score never overrides its parent', () => {
    expect(parseJudgeReply('Draft: {"score": 2} Final: {"score": 4, "reasoning": "better"}')).toEqual({ score: 4, reasoning: 'better' });
    expect(parseJudgeReply('{"score": 3, "parts": {"score": 1}}')).toEqual({ score: 3, reasoning: null });
  });

  it('falls back to a "Score: N" line, then gives up', () => {
    expect(parseJudgeReply('Reasoning: solid.\nScore: 4')).toEqual({ score: 4, reasoning: null });
    expect(parseJudgeReply('**Score**: 3.5')).toEqual({ score: 3.5, reasoning: null });
    expect(parseJudgeReply('I think it is good.')).toBeNull();
    expect(parseJudgeReply('{"score": "high"}')).toBeNull();
  });
});

describe('llm_judge', () => {
  it('builds system (rubric, scale, JSON format) and user (input, output, references) messages', () => {
    const msgs = judgeMessages(outcome({ input: [{ role: 'user', content: 'Hi' }] }), params);
    expect(msgs.map((m) => m.role)).toEqual(['system', 'user']);
    expect(msgs[0]!.content).toContain('Is the answer correct and concise?');
    expect(msgs[0]!.content).toContain('from 1 (worst) to 5 (best)');
    expect(msgs[0]!.content).toContain('{"score": <number from 1 to 5>, "reasoning": "<one or two sentences on why>"}');
    expect(msgs[1]!.content).toBe('<input>\nuser: Hi\n</input>\n\n<output>\n4\n</output>\n\n<reference_answers>\n<reference>\n4\n</reference>\n</reference_answers>');
    expect(judgeMessages(outcome({ references: [] }), params)[1]!.content).not.toContain('reference');
  });

  it('scales the score to [0, 1] and keeps reasoning and raw score', async () => {
    const { ctx, calls } = fakeJudge('{"score": 4, "reasoning": "correct but wordy"}');
    expect(await llmJudge.score(outcome(), params, ctx)).toEqual({ value: 0.75, detail: { reasoning: 'correct but wordy', rawScore: 4 } });
    expect(calls).toHaveLength(1);
  });

  it('reports pass/fail against passScore and records the requested model', async () => {
    const p = llmJudge.params.parse({ rubric: 'r', scale: { min: 0, max: 10 }, passScore: 7, model: 'judge-large' });
    const { ctx } = fakeJudge('Score: 6');
    expect(await llmJudge.score(outcome(), p, ctx)).toEqual({ value: 0.6, detail: { reasoning: null, rawScore: 6, passed: false, model: 'judge-large' } });
  });

  it('gives null with an error, not a failed run, for an unparsable or out-of-scale reply', async () => {
    const unparsable = await llmJudge.score(outcome(), params, fakeJudge('The output looks great to me!').ctx);
    expect(unparsable.value).toBeNull();
    expect(unparsable.error).toBe('judge returned an unparsable score: The output looks great to me!');
    const outOfScale = await llmJudge.score(outcome(), params, fakeJudge('{"score": 9}').ctx);
    expect(outOfScale.value).toBeNull();
    expect(outOfScale.error).toBe('judge returned an unparsable score: {"score": 9}');
    const long = await llmJudge.score(outcome(), params, fakeJudge('x'.repeat(500)).ctx);
    expect(long.error).toBe(`judge returned an unparsable score: ${'x'.repeat(200)}`);
  });

  it('gives null with an error when the judge call fails or there is no judge', async () => {
    expect(await llmJudge.score(outcome(), params, fakeJudge(new Error('HTTP 503')).ctx)).toEqual({ value: null, error: 'judge call failed: HTTP 503' });
    expect(await llmJudge.score(outcome(), params, {})).toEqual({ value: null, error: 'llm_judge needs a judge endpoint, and this run has none configured' });
  });

  it('requires a rubric and a sane scale', () => {
    expect(llmJudge.params.safeParse({}).success).toBe(false);
    expect(llmJudge.params.safeParse({ rubric: '  ' }).success).toBe(false);
    expect(llmJudge.params.safeParse({ rubric: 'r', scale: { min: 5, max: 1 } }).success).toBe(false);
    expect(llmJudge.params.safeParse({ rubric: 'r', passScore: 6 }).success).toBe(false);
    expect(llmJudge.params.parse({ rubric: 'r' })).toEqual({ rubric: 'r', scale: { min: 1, max: 5 } });
    expect(llmJudge.needs).toEqual({ judge: true });
  });
});

describe('createJudgeCall', () => {
  const signal = new AbortController().signal;
  const answer = (text: string) => ({ text }) as ChatResult;

  it('asks the judge model at temperature 0 without streaming, retrying transient failures', async () => {
    const sent: unknown[] = [];
    let n = 0;
    const judge = createJudgeCall(
      {
        chat: async (req) => {
          sent.push(req);
          if (++n === 1) throw new OpenAIError('busy', { kind: 'status', transient: true, status: 503, retryAfterMs: 0 });
          return answer('{"score": 5}');
        },
      },
      'judge-large',
      { retries: 2, baseMs: 0, signal },
    );
    const msgs = judgeMessages(outcome(), params);
    expect(await judge(msgs)).toBe('{"score": 5}');
    expect(sent).toEqual([{ model: 'judge-large', messages: msgs, temperature: 0 }, { model: 'judge-large', messages: msgs, temperature: 0 }]);
  });

  it('fails with the endpoint\'s message once the retries are spent', async () => {
    const judge = createJudgeCall({ chat: async () => Promise.reject(new OpenAIError('http://j answered 400: bad model', { kind: 'status', transient: false, status: 400 })) }, 'j', { retries: 2, baseMs: 0, signal });
    await expect(judge([])).rejects.toThrow('judge endpoint: http://j answered 400: bad model');
  });
});
