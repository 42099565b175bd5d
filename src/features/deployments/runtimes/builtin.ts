/** The built-in CPU runtime (src/runtimes/builtin): a GGUF served through node-llama-cpp, nothing to install. */
import { builtinRuntimeCommand } from '../../../runtimes/builtin/builtin-command.js';
import type { RuntimeAdapter } from './runtime.js';

export const builtin: RuntimeAdapter = {
  name: 'builtin',
  binary: null,
  install: 'nothing: it ships with Steward (node-llama-cpp, CPU)',
  command: (ctx) => {
    const gguf = ctx.files.find((f) => f.toLowerCase().endsWith('.gguf'));
    if (!gguf) throw new Error('runtime builtin needs a .gguf file in the version');
    const c = builtinRuntimeCommand({ modelPath: `${ctx.modelDir}/${gguf}`, port: ctx.port, host: ctx.host, modelName: ctx.model });
    return { cmd: c.command, args: [...c.args, ...ctx.args] };
  },
  readinessPath: '/health',
  livenessPath: '/health',
  metricsPath: null,
  container: { image: null },
};
