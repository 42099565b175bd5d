/** Hugging Face Text Generation Inference: `text-generation-launcher --model-id DIR`. */
import type { RuntimeAdapter } from './runtime.js';

export const tgi: RuntimeAdapter = {
  name: 'tgi',
  binary: 'text-generation-launcher',
  install: 'install text-generation-inference (its launcher on PATH), or deploy with --driver kubernetes',
  command: (ctx) => ({ cmd: 'text-generation-launcher', args: ['--model-id', ctx.modelDir, '--hostname', ctx.host, '--port', String(ctx.port), ...ctx.args] }),
  readinessPath: '/health',
  livenessPath: '/health',
  metricsPath: '/metrics',
  container: { image: 'ghcr.io/huggingface/text-generation-inference:3.3.2' },
};
