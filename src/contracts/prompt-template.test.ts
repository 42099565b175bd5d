import { describe, expect, it } from 'vitest';
import { bindVariables, compilePrompt, MAX_ISSUES, renderCompiled, reservedNameProblem, type CompiledPrompt } from './prompt-template.js';
import { PromptSpec, type PromptSpecInput } from './prompts.js';

type Issue = { path: string; message: string; line?: number; column?: number };
function issuesOf(input: unknown): Issue[] {
  const r = PromptSpec.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => {
    const params = (i as { params?: { line: number; column: number } }).params;
    return { path: i.path.join('.'), message: i.message, ...(params ? { line: params.line, column: params.column } : {}) };
  });
}
const text = (t: string, extra: Partial<PromptSpecInput> = {}) => ({ template: { type: 'text' as const, text: t }, ...extra });
const chat = (...contents: string[]) => ({ template: { type: 'chat' as const, messages: contents.map((content, i) => ({ role: i === 0 ? ('system' as const) : ('user' as const), content })) } });

function compiled(input: PromptSpecInput): CompiledPrompt {
  const c = compilePrompt(PromptSpec.parse(input));
  if (!c.ok) throw new Error(c.issues[0]!.message);
  return c.prompt;
}
function render(input: PromptSpecInput, vars: Record<string, unknown>) {
  const c = compiled(input);
  const b = bindVariables(c, vars);
  if (!b.ok) throw new Error(b.message);
  return renderCompiled(c, b.values);
}

describe('template parsing: every malformed placeholder is refused with its place', () => {
  it.each([
    ['Hello {{name', 1, 7, '"{{" is never closed with "}}"'],
    ['line one\n  bye}} now', 2, 6, 'unmatched "}}"'],
    ['a {{}} b', 1, 3, 'empty placeholder "{{}}"'],
    ['a {{ }} b', 1, 3, 'empty placeholder "{{}}"'],
    ['x\ny {{first last}}', 2, 3, '"first last" is not a variable name'],
    ['{{1st}}', 1, 1, '"1st" is not a variable name'],
    ['{{user.name}}', 1, 1, '"user.name" is not a variable name'],
    ['ab {{{name}}}', 1, 4, 'triple braces'],
    ['{{a {{b}}', 1, 1, 'not closed before the next "{{" at line 1, column 5'],
    ['{{na\nme}}', 1, 1, 'must not span lines'],
  ])('%j → line %i, column %i: %s', (src, line, column, what) => {
    const [first] = issuesOf(text(src));
    expect(first).toMatchObject({ path: 'template.text', line, column });
    expect(first!.message).toContain(`text line ${line}, column ${column}: `);
    expect(first!.message).toContain(what);
  });

  it('names the chat message by index and role', () => {
    const issues = issuesOf(chat('You are {{persona}}.', 'fine', 'Question:\n  {{question'));
    expect(issues).toEqual([
      expect.objectContaining({ path: 'template.messages.2.content', line: 2, column: 3, message: expect.stringMatching(/^messages\[2\] \(user\) line 2, column 3: "\{\{" is never closed/) }),
    ]);
  });

  it('reports every problem, not only the first, and stops at a bound on hostile input', () => {
    expect(issuesOf(text('{{a b}} and {{}} and }}'))).toHaveLength(3);
    expect(issuesOf(text('}} '.repeat(10_000)))).toHaveLength(MAX_ISSUES);
  });

  it('accepts escapes, spaces inside braces, and single braces (JSON examples)', () => {
    expect(issuesOf(text('\\{{literal\\}} {{ name }} {"a": {"b": 1} }'))).toEqual([]);
    expect(render(text('\\{{literal\\}} {{ name }} {"a": 1}'), { name: 'Ann' }).text).toBe('{{literal}} Ann {"a": 1}');
  });
});

describe('reserved variable names', () => {
  it.each(['__proto__', '__x', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'steward', 'Steward_env', 'STEWARD'])('%s is reserved', (n) => {
    expect(reservedNameProblem(n)).toMatch(/is reserved/);
    expect(issuesOf(text(`{{${n}}}`))[0]?.message).toMatch(/is reserved/);
    expect(issuesOf(text('hi', { variables: [{ name: n }] }))[0]).toMatchObject({ path: 'variables.0.name', message: expect.stringMatching(/reserved/) });
  });

  it.each(['name', '_private', 'stewardship', 'proto', 'user_2'])('%s is allowed', (n) => {
    expect(reservedNameProblem(n)).toBeNull();
    expect(issuesOf(text(`{{${n}}}`))).toEqual([]);
  });
});

describe('variable declarations', () => {
  it('refuses a placeholder that is not declared, suggesting the closest name', () => {
    const [i] = issuesOf({ ...chat('Hi {{nmae}}'), variables: [{ name: 'name' }] });
    expect(i).toMatchObject({ path: 'template.messages.0.content', line: 1, column: 4 });
    expect(i!.message).toContain('{{nmae}} is not declared in variables (did you mean name?)');
  });

  it('refuses duplicates, defaults of the wrong type, enums on non-strings, and required variables with defaults', () => {
    const issues = issuesOf(
      text('{{a}} {{n}}', {
        variables: [
          { name: 'a' },
          { name: 'a' },
          { name: 'n', type: 'integer', default: 1.5 },
          { name: 'flag', type: 'boolean', enum: ['x'] },
          { name: 'tone', required: true, default: 'kind' },
          { name: 'color', enum: ['red'], default: 'blue' },
        ],
      }),
    );
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ['variables.1.name', 'variable a is declared twice'],
      ['variables.2.default', 'default of variable n must be an integer, got the number 1.5'],
      ['variables.3', 'variable flag: enum and maxLength apply to type string only'],
      ['variables.4.default', 'variable tone is required and has a default, which would never be used; drop one'],
      ['variables.5.default', 'default of variable color must be one of "red", got the string "blue"'],
    ]);
  });

  it('refuses unknown keys anywhere in the spec (typos are not ignored)', () => {
    expect(issuesOf({ ...text('hi'), modelconfig: {} })[0]?.message).toMatch(/modelconfig/);
    expect(issuesOf({ ...text('hi'), modelConfig: { temprature: 1 } })[0]?.message).toMatch(/temprature/);
    expect(issuesOf({ template: { type: 'chat', messages: [{ role: 'robot', content: 'x' }] } })[0]?.path).toBe('template.messages.0.role');
  });

  it('infers required string variables in order of first use when none are declared', () => {
    const c = compiled(chat('{{b}} {{a}}', '{{a}} {{c}}'));
    expect(c.variables.map((v) => [v.name, v.type, v.required])).toEqual([['b', 'string', true], ['a', 'string', true], ['c', 'string', true]]);
  });
});

describe('binding and rendering', () => {
  const spec: PromptSpecInput = {
    template: {
      type: 'chat',
      messages: [
        { role: 'system', content: 'You are {{persona}}. Answer in {{lang}}.', name: 'policy' },
        { role: 'user', content: '{{question}} (top {{k}}, strict={{strict}}, ctx={{ctx}}){{suffix}}' },
      ],
    },
    variables: [
      { name: 'persona', default: 'a helpful assistant' },
      { name: 'lang', enum: ['English', 'French'], default: 'English' },
      { name: 'question', maxLength: 20 },
      { name: 'k', type: 'integer', default: 3 },
      { name: 'strict', type: 'boolean', default: false },
      { name: 'ctx', type: 'json', default: { a: [1, 2] } },
      { name: 'suffix', required: false },
    ],
  };

  it('fills placeholders, formats typed values, applies defaults, keeps message names', () => {
    expect(render(spec, { question: 'What is 2+2?', k: 5 }).messages).toEqual([
      { role: 'system', content: 'You are a helpful assistant. Answer in English.', name: 'policy' },
      { role: 'user', content: 'What is 2+2? (top 5, strict=false, ctx={"a":[1,2]})' },
    ]);
    expect(render(spec, { question: 'q', lang: 'French', strict: true, ctx: 'raw', suffix: '!' }).messages[1]!.content).toBe('q (top 3, strict=true, ctx="raw")!');
  });

  it('renders a text template as one user message and its text', () => {
    expect(render(text('Dear {{who}},'), { who: 'Ann' })).toEqual({ messages: [{ role: 'user', content: 'Dear Ann,' }], text: 'Dear Ann,' });
  });

  it('does not re-expand placeholders inside values', () => {
    expect(render(text('{{a}} {{b}}'), { a: '{{b}}', b: 'x' }).text).toBe('{{b}} x');
  });

  it('reports missing, unknown (with a suggestion) and mistyped variables together', () => {
    const c = compiled(spec);
    const b = bindVariables(c, { questoin: 'x', k: '3', strict: 'yes', lang: 'German' });
    expect(b.ok).toBe(false);
    if (b.ok) return;
    expect(b.problems.missingVariables).toEqual(['question']);
    expect(b.problems.unknownVariables).toEqual([{ name: 'questoin', suggestion: 'question' }]);
    expect(b.problems.mistypedVariables).toEqual([
      { name: 'k', problem: 'must be an integer, got the string "3"' },
      { name: 'strict', problem: 'must be a boolean, got the string "yes"' },
      { name: 'lang', problem: 'must be one of "English", "French", got the string "German"' },
    ]);
    expect(b.message).toBe(
      'cannot render: missing required variable(s) question; unknown variable(s) questoin (did you mean question?); variable k must be an integer, got the string "3"; variable strict must be a boolean, got the string "yes"; variable lang must be one of "English", "French", got the string "German"',
    );
    expect(b.problems.issues.map((i) => i.path)).toEqual(['variables.question', 'variables.questoin', 'variables.k', 'variables.strict', 'variables.lang']);
  });

  it('refuses null, NaN, over-long strings, and non-integers', () => {
    const c = compiled(spec);
    for (const [vars, problem] of [
      [{ question: null }, 'must be a string, got null'],
      [{ question: 'x'.repeat(21) }, 'must be at most 20 characters, got 21'],
      [{ question: 'q', k: 2.5 }, 'must be an integer, got the number 2.5'],
      [{ question: ['a'] }, 'must be a string, got an array'],
    ] as const) {
      const b = bindVariables(c, vars);
      expect(b.ok ? null : b.problems.mistypedVariables[0]?.problem).toBe(problem);
    }
    const nan = bindVariables(compiled(text('{{x}}', { variables: [{ name: 'x', type: 'number' }] })), { x: Number.NaN });
    expect(nan.ok ? null : nan.problems.mistypedVariables[0]?.problem).toBe('must be a number, got the number NaN');
  });

  it('does not treat prototype keys of the variables object as variables', () => {
    const b = bindVariables(compiled(text('{{a}}')), JSON.parse('{"a":"x","__proto__":{"polluted":true}}') as Record<string, unknown>);
    expect(b.ok ? null : b.problems.unknownVariables).toEqual([{ name: '__proto__' }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
