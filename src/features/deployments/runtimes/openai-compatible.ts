/** Any command that serves the OpenAI API: the deployment's `args` are its command line. */
import type { RuntimeAdapter } from './runtime.js';

export const openaiCompatible: RuntimeAdapter = {
  name: 'openai-compatible',
  binary: null,
  install: 'give the server command as args, e.g. ["python", "-m", "my_server", "--port", "{port}", "--model", "{model_dir}"]',
  command: (ctx) => {
    const [cmd, ...args] = ctx.args;
    if (!cmd) throw new Error('runtime openai-compatible needs its command line in args (placeholders {port}, {host}, {model_dir}, {model})');
    return { cmd, args };
  },
  readinessPath: '/v1/models',
  livenessPath: '/v1/models',
  metricsPath: null,
  container: { image: null },
};
