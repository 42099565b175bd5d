/** Every runtime the local driver can start, by name. */
import type { Runtime } from '../../../contracts/deployments.js';
import { builtin } from './builtin.js';
import { llamacpp } from './llamacpp.js';
import { ollama } from './ollama.js';
import { openaiCompatible } from './openai-compatible.js';
import type { RuntimeAdapter } from './runtime.js';
import { tgi } from './tgi.js';
import { torchserve } from './torchserve.js';
import { vllm } from './vllm.js';

export const RUNTIME_ADAPTERS: Partial<Record<Runtime, RuntimeAdapter>> = {
  builtin,
  'openai-compatible': openaiCompatible,
  vllm,
  llamacpp,
  tgi,
  ollama,
  torchserve,
};
