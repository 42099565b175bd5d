/** llama.cpp's `llama-server`, serving the version's GGUF file. */
import type { RuntimeAdapter } from './runtime.js';

export const llamacpp: RuntimeAdapter = {
  name: 'llamacpp',
  binary: 'llama-server',
  install: 'build llama.cpp (cmake) or install its package, so that llama-server is on PATH',
  command: (ctx) => {
    const gguf = ctx.files.find((f) => f.toLowerCase().endsWith('.gguf'));
    if (!gguf) throw new Error('runtime llamacpp needs a .gguf file in the version');
    return { cmd: 'llama-server', args: ['--model', `${ctx.modelDir}/${gguf}`, '--host', ctx.host, '--port', String(ctx.port), '--alias', ctx.model, '--metrics', ...ctx.args] };
  },
  readinessPath: '/health',
  livenessPath: '/health',
  metricsPath: '/metrics',
  container: { image: 'ghcr.io/ggml-org/llama.cpp:server', executable: '/app/llama-server' },
};
