/** Ollama's server (`ollama serve`), listening where OLLAMA_HOST says. */
import type { RuntimeAdapter } from './runtime.js';

export const ollama: RuntimeAdapter = {
  name: 'ollama',
  binary: 'ollama',
  install: 'install Ollama (https://ollama.com) so that ollama is on PATH',
  command: (ctx) => ({ cmd: 'ollama', args: ['serve', ...ctx.args], env: { OLLAMA_HOST: `${ctx.host}:${ctx.port}`, OLLAMA_MODELS: ctx.modelDir } }),
  readinessPath: '/api/tags',
  livenessPath: '/api/tags',
  metricsPath: null,
  container: { image: 'ollama/ollama:0.12.3', executable: '/bin/ollama' },
};
