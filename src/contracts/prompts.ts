/**
 * Contracts of prompts. A prompt is an asset of kind `prompt`; each version holds no files and a
 * typed `PromptSpec` in its metadata: a template (plain text, or chat messages with roles) with
 * `{{variable}}` placeholders, the variables it takes, and the model configuration it is meant
 * for. `PromptSpec` is the whole rule: the server refuses a version it rejects, and the SDK
 * renders locally with the same engine (`prompt-template.ts`), so both agree on every error.
 */
import { z } from 'zod';
import { MetadataChange } from './assets.js';
import { analyseSpec, reservedNameProblem, VARIABLE_NAME_RE } from './prompt-template.js';

export { RESERVED_VARIABLE_NAMES, VARIABLE_NAME_RE } from './prompt-template.js';

export const VariableName = z
  .string()
  .max(64, 'variable names are at most 64 characters')
  .regex(VARIABLE_NAME_RE, 'variable names hold letters, digits and "_", and do not start with a digit')
  .superRefine((n, ctx) => {
    const problem = reservedNameProblem(n);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export const VARIABLE_TYPES = ['string', 'number', 'integer', 'boolean', 'json'] as const;
export const VariableType = z.enum(VARIABLE_TYPES);
export type VariableType = z.infer<typeof VariableType>;

export const PromptVariable = z
  .object({
    name: VariableName,
    type: VariableType.default('string').describe('json: any JSON value, rendered as compact JSON text'),
    required: z.boolean().optional().describe('default: true unless a default is given'),
    default: z.unknown().optional().describe('used when the caller gives no value; must have the declared type'),
    description: z.string().max(2000).optional(),
    enum: z.array(z.string().max(1000)).min(1).max(256).optional().describe('allowed values (type string only)'),
    maxLength: z.number().int().positive().optional().describe('longest value accepted, in characters (type string only)'),
    trusted: z.boolean().optional().describe('skip the prompt-injection check for this variable (e.g. text the prompt owner controls)'),
  })
  .strict();
export type PromptVariable = z.output<typeof PromptVariable>;

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant'] as const;
export const ChatRole = z.enum(CHAT_ROLES);
export type ChatRole = z.infer<typeof ChatRole>;

export const PromptMessage = z
  .object({
    role: ChatRole,
    content: z.string().max(256 * 1024, 'a message is at most 256 KiB'),
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a participant name holds 1-64 letters, digits, "_" or "-"').optional(),
  })
  .strict();

export const PromptTemplate = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().max(1024 * 1024, 'a text template is at most 1 MiB') }).strict(),
  z.object({ type: z.literal('chat'), messages: z.array(PromptMessage).min(1, 'a chat template needs at least one message').max(1000) }).strict(),
]);
export type PromptTemplate = z.output<typeof PromptTemplate>;

export const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).strict(),
  z.object({ type: z.literal('json_object') }).strict(),
  z
    .object({
      type: z.literal('json_schema'),
      name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().optional(),
    })
    .strict(),
]);

export const ModelConfig = z
  .object({
    model: z.string().min(1).max(256).optional().describe('target model: NAME, NAME:ENV or NAME@VERSION as the gateway takes it, or an external model id'),
    temperature: z.number().min(0).max(2).optional(),
    maxTokens: z.number().int().positive().max(10_000_000).optional(),
    topP: z.number().gt(0).max(1).optional(),
    stop: z.array(z.string().min(1).max(256)).max(16).optional(),
    responseFormat: ResponseFormat.optional(),
  })
  .strict();
export type ModelConfig = z.output<typeof ModelConfig>;

export const SAFETY_MODES = ['off', 'warn', 'block'] as const;
export const SafetyMode = z.enum(SAFETY_MODES);
export type SafetyMode = z.infer<typeof SafetyMode>;

/**
 * What a prompt version stores (as its metadata). Checked as a whole: placeholders well formed
 * and declared, variable names unique and not reserved, defaults and enums of the declared type.
 * Without `variables`, every placeholder is a required string.
 */
export const PromptSpec = z
  .object({
    template: PromptTemplate,
    variables: z.array(PromptVariable).max(256).optional(),
    modelConfig: ModelConfig.default({}),
    safety: SafetyMode.optional().describe('the least strict injection check a render of this version gets'),
  })
  .strict()
  .superRefine((spec, ctx) => {
    for (const i of analyseSpec(spec).issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message, params: i.line ? { line: i.line, column: i.column } : undefined });
  });
export type PromptSpec = z.output<typeof PromptSpec>;
export type PromptSpecInput = z.input<typeof PromptSpec>;

export const RenderPromptBody = z
  .object({
    ref: z.string().min(1).max(64).optional().describe('version or label; default the "production" label, else the latest ready version'),
    variables: z.record(z.string(), z.unknown()).default({}),
    safety: SafetyMode.optional().describe('prompt-injection check of the variables (the version may impose a stricter one)'),
  })
  .strict();
export type RenderPromptBody = z.input<typeof RenderPromptBody>;

export const SAFETY_RULES = ['ignore-instructions', 'role-marker', 'system-prompt-request', 'jailbreak'] as const;
export const SafetyFinding = z
  .object({
    variable: z.string(),
    rule: z.enum(SAFETY_RULES),
    excerpt: z.string().describe('the matching text, normalised (lower case, single spaces), at most 80 characters'),
  })
  .strict();
export type SafetyFinding = z.infer<typeof SafetyFinding>;

export const RenderedMessage = z.object({ role: ChatRole, content: z.string(), name: z.string().optional() }).strict();
export type RenderedMessage = z.infer<typeof RenderedMessage>;

export const RenderPromptResponse = z
  .object({
    name: z.string(),
    version: z.string(),
    digest: z.string(),
    messages: z.array(RenderedMessage).describe('a text template renders as one user message'),
    text: z.string().optional().describe('the rendered text (text templates only)'),
    modelConfig: ModelConfig,
    safety: SafetyMode.describe('the check that was applied'),
    findings: z.array(SafetyFinding),
  })
  .strict();
export type RenderPromptResponse = z.infer<typeof RenderPromptResponse>;

export const PromptDiffQuery = z
  .object({ other: z.string().min(1).max(200).optional().describe('REF or NAME:REF to compare with; default: the version before this one (then this one is the newer side)') })
  .strict();

const DiffSide = z.object({ name: z.string(), version: z.string(), digest: z.string() }).strict();
export const PromptDiffResponse = z
  .object({
    a: DiffSide,
    b: DiffSide,
    sameContent: z.boolean(),
    template: z
      .object({
        typeChange: z.object({ before: z.enum(['text', 'chat']), after: z.enum(['text', 'chat']) }).strict().nullable(),
        unified: z.string().describe('unified diff of the template as lines (chat messages as "role: content"); empty when equal'),
        added: z.number().int(),
        removed: z.number().int(),
      })
      .strict(),
    modelConfig: z.array(MetadataChange),
    variables: z.array(MetadataChange).describe('by variable name; before/after are the declarations'),
    safety: MetadataChange.nullable(),
  })
  .strict();
export type PromptDiffResponse = z.infer<typeof PromptDiffResponse>;
