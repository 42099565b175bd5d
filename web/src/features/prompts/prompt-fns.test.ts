import { describe, expect, it } from 'vitest';
import type { PromptSpec } from '../../../../src/contracts/prompts.js';
import { playgroundVariables, promptSpec, templateParts, variableValues } from './prompt-fns.js';

const chat = { template: { type: 'chat', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi {{ name }}, about {{topic}}' }] }, modelConfig: {} } as unknown as PromptSpec;

describe('prompt playground', () => {
  it('finds the spec in a version\'s metadata, or none', () => {
    expect(promptSpec(chat as unknown as Record<string, unknown>)).toBe(chat);
    expect(promptSpec({ architecture: 'llama' })).toBeNull();
  });
  it('asks for the declared variables, else for every placeholder as a string', () => {
    expect(playgroundVariables(chat).map((v) => v.name)).toEqual(['name', 'topic']);
    const declared = { ...chat, variables: [{ name: 'n', type: 'integer' }] } as unknown as PromptSpec;
    expect(playgroundVariables(declared)).toEqual([{ name: 'n', type: 'integer' }]);
  });
  it('types the inputs, leaves empty ones to their defaults and names bad ones', () => {
    const vars = [
      { name: 'n', type: 'integer' },
      { name: 'x', type: 'number' },
      { name: 'ok', type: 'boolean' },
      { name: 'j', type: 'json' },
      { name: 's', type: 'string' },
      { name: 'empty', type: 'string' },
    ] as PromptSpec['variables'] & object;
    expect(variableValues(vars, { n: '3', x: '0.5', ok: 'true', j: '{"a":1}', s: 'hi', empty: '' })).toEqual({ values: { n: 3, x: 0.5, ok: true, j: { a: 1 }, s: 'hi' }, errors: {} });
    expect(variableValues(vars, { n: '3.5', j: '{' }).errors).toEqual({ n: 'n must be an integer', j: 'j must be JSON' });
  });
  it('splits a template around its placeholders for highlighting', () => {
    expect(templateParts('Hi {{ name }}!')).toEqual([
      { text: 'Hi ', variable: false },
      { text: '{{ name }}', variable: true },
      { text: '!', variable: false },
    ]);
  });
});
