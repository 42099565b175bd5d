/** TorchServe for non-LLM models: the version's files are its model store (`.mar` archives). */
import type { RuntimeAdapter } from './runtime.js';

export const torchserve: RuntimeAdapter = {
  name: 'torchserve',
  binary: 'torchserve',
  install: 'pip install torchserve torch-model-archiver',
  command: (ctx) => ({
    cmd: 'torchserve',
    args: ['--start', '--foreground', '--disable-token-auth', '--model-store', ctx.modelDir, '--models', 'all', ...ctx.args],
    env: { TS_INFERENCE_ADDRESS: `http://${ctx.host}:${ctx.port}` },
  }),
  readinessPath: '/ping',
  livenessPath: '/ping',
  metricsPath: null,
  container: { image: 'pytorch/torchserve:0.12.0-cpu' },
};
