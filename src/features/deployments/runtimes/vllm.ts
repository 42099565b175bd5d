/** vLLM's OpenAI-compatible server: `vllm serve DIR`. */
import type { RuntimeAdapter } from './runtime.js';

export const vllm: RuntimeAdapter = {
  name: 'vllm',
  binary: 'vllm',
  install: 'pip install vllm (a GPU host), or deploy with --driver kubernetes',
  command: (ctx) => ({ cmd: 'vllm', args: ['serve', ctx.modelDir, '--host', ctx.host, '--port', String(ctx.port), '--served-model-name', ctx.model, ...ctx.args] }),
  readinessPath: '/health',
  livenessPath: '/health',
  metricsPath: '/metrics',
  container: { image: 'vllm/vllm-openai:v0.11.0' },
};
