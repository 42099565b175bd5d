/** Deployments: deploy, deployments ls|show|logs|stop|scale. */
import type { Command } from 'commander';
import type { DeploymentDryRun, DeploymentResponse } from '../../contracts/deployments.js';
import { clientFor, printJson, printTable, type GlobalOptions } from '../cli-context.js';
import { parseRef, UsageError } from '../cli-errors.js';
import { pickGlobals } from './push.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const AT_REST = new Set(['ready', 'stopped', 'failed', 'degraded']);

function int(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a whole number ≥ 0`);
    return n;
  };
}

function price(flag: string, unit = 'USD per million tokens') {
  return (v: string): number => {
    const n = Number(v);
    if (!v.trim() || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${JSON.stringify(v)} must be a price ≥ 0 (${unit})`);
    return n;
  };
}

function printDeployment(d: DeploymentResponse): void {
  const lines = [
    `${d.id}  ${d.model.name}:${d.model.version} in ${d.environment}  ${d.state.toUpperCase()}`,
    `runtime    ${d.runtime} (${d.driver}), ${d.replicas} replica(s)${d.args.length ? `: ${d.args.join(' ')}` : ''}`,
    `created    ${d.createdAt} by ${d.createdBy}`,
  ];
  if (d.kubernetes) {
    const k = d.kubernetes;
    lines.push(`kubernetes ${k.flavour} ${k.namespace}/${k.name}${k.autoscaling ? `, autoscaled ${k.autoscaling.min}-${k.autoscaling.max}` : ''}`);
  }
  if (d.endpoint) lines.push(`endpoint   ${d.endpoint.url}${d.endpoint.model ? ` (model ${d.endpoint.model})` : ''}${d.endpoint.auth ? ', with a key' : ''}`);
  if (d.pricing) lines.push(`pricing    $${d.pricing.inputPerMTok} in / $${d.pricing.outputPerMTok} out per million tokens`);
  else if (d.gpuHourUsd !== null) lines.push(`pricing    $${d.gpuHourUsd} per GPU-hour (steward cost derives the cost per token)`);
  if (d.error) lines.push(`error      ${d.error}`);
  for (const r of d.replicaStatus) {
    lines.push(`  replica ${r.index}  ${r.state.padEnd(10)} ${r.url ?? '-'}  pid ${r.pid ?? '-'}  restarts ${r.restarts}${r.lastError && r.state !== 'ready' ? `  (${r.lastError.split('\n')[0]})` : ''}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

interface DeployOptions {
  env: string;
  runtime: string;
  driver: string;
  endpoint?: string;
  endpointModel?: string;
  priceIn?: number;
  priceOut?: number;
  gpuHourPrice?: number;
  replicas?: number;
  arg?: string[];
  setEnv?: string[];
  readinessPath?: string;
  startTimeout?: number;
  k8sNamespace?: string;
  flavour?: string;
  image?: string;
  registrySecret?: string;
  serviceAccount?: string;
  minReplicas?: number;
  maxReplicas?: number;
  gpus?: number;
  gpuType?: string;
  memory?: string;
  dryRun?: boolean;
  wait: boolean;
  timeout: number;
}

const FLAVOURS = ['deployment', 'kserve', 'inference-pool'];

/** The kubernetes, autoscaling and resources parts of the body (the server refuses kubernetes fields with another driver). */
function kubernetesFields(o: DeployOptions) {
  if (o.flavour !== undefined && !FLAVOURS.includes(o.flavour)) throw new UsageError(`--flavour ${JSON.stringify(o.flavour)} must be one of ${FLAVOURS.join(', ')}`);
  if ((o.minReplicas === undefined) !== (o.maxReplicas === undefined)) throw new UsageError('--min-replicas and --max-replicas go together');
  const k8s = {
    ...(o.k8sNamespace ? { namespace: o.k8sNamespace } : {}),
    ...(o.flavour ? { flavour: o.flavour as 'deployment' } : {}),
    ...(o.image ? { image: o.image } : {}),
    ...(o.registrySecret ? { registrySecret: o.registrySecret } : {}),
    ...(o.serviceAccount ? { serviceAccount: o.serviceAccount } : {}),
  };
  const resources = o.gpus !== undefined || o.gpuType || o.memory ? { resources: { gpus: o.gpus ?? 0, gpuType: o.gpuType ?? null, memory: o.memory ?? null } } : {};
  return {
    ...(Object.keys(k8s).length ? { kubernetes: k8s } : {}),
    ...(o.minReplicas !== undefined && o.maxReplicas !== undefined ? { autoscaling: { min: o.minReplicas, max: o.maxReplicas } } : {}),
    ...resources,
  };
}

/** `--dry-run`: the manifests as multi-document YAML (driver kubernetes), else the validated spec. */
async function printDryRun(r: DeploymentDryRun, json: boolean): Promise<void> {
  if (json) return printJson(r);
  const { stringify } = await import('yaml');
  const docs = r.manifests.length ? r.manifests : [r.spec];
  process.stdout.write(docs.map((m) => stringify(m, { lineWidth: 0 })).join('---\n'));
}

export function registerDeployments(program: Command, globals: () => GlobalOptions): void {
  const g = (o: GlobalOptions) => ({ ...globals(), ...pickGlobals(o) });

  program
    .command('deploy')
    .description('Deploy a ready model version: materialise its files, start its replicas, wait until they serve')
    .argument('<name:version>', 'model NAME:VERSION')
    .requiredOption('--env <env>', 'environment (its policy gives the default replica count)')
    .option('--runtime <runtime>', 'openai-compatible, vllm, llamacpp, tgi, ollama, torchserve', 'openai-compatible')
    .option('--driver <driver>', 'local, kubernetes (objects applied through the API of STEWARD_KUBECONFIG on the server), or external (a server that already serves it: --endpoint)', 'local')
    .option('--endpoint <url>', 'driver external: its OpenAI-compatible base URL (a key, if it needs one, from STEWARD_ENDPOINT_API_KEY)')
    .option('--endpoint-model <name>', "driver external: the model name that server expects (default: the registry's model name)")
    .option('--price-in <usd>', 'what the gateway charges per million input tokens, in USD', price('--price-in'))
    .option('--price-out <usd>', 'what the gateway charges per million output tokens, in USD', price('--price-out'))
    .option('--gpu-hour-price <usd>', 'what one GPU costs per hour, in USD, when it is billed by the hour: steward cost divides its hours by the tokens it served', price('--gpu-hour-price', 'USD per GPU-hour'))
    .option('--replicas <n>', 'replicas (default: the environment policy)', int('--replicas'))
    .option('--arg <arg>', 'runtime argument; for openai-compatible the command line itself ({port}, {host}, {model_dir}, {model} are filled in; repeatable)', collect)
    .option('--set-env <KEY=VALUE>', 'environment variable of the replicas (repeatable; values are never shown)', collect)
    .option('--readiness-path <path>', "readiness probe path (default: the runtime's)")
    .option('--start-timeout <seconds>', 'a replica not ready by then is restarted (default 300)', int('--start-timeout'))
    .option('--k8s-namespace <ns>', 'kubernetes: the namespace of its objects (default: default)')
    .option('--flavour <flavour>', 'kubernetes: deployment (Deployment+Service+HPA), kserve (InferenceService) or inference-pool (Deployment+Service+InferencePool)')
    .option('--image <image>', "kubernetes: the model server's image (default: the runtime's)")
    .option('--registry-secret <name>', 'kubernetes: Secret with keys url and token the pods pull the version with (default: steward-registry)')
    .option('--service-account <name>', 'kubernetes: the pods\' service account')
    .option('--min-replicas <n>', 'kubernetes: autoscaling lower bound (with --max-replicas)', int('--min-replicas'))
    .option('--max-replicas <n>', 'kubernetes: autoscaling upper bound (an HorizontalPodAutoscaler when it differs from the lower one)', int('--max-replicas'))
    .option('--gpus <n>', 'GPUs per replica (kubernetes: nvidia.com/gpu limits)', int('--gpus'))
    .option('--gpu-type <type>', 'GPU product (kubernetes: node selector nvidia.com/gpu.product)')
    .option('--memory <quantity>', 'memory per replica, e.g. 24Gi')
    .option('--dry-run', 'validate and print what would be deployed, recording nothing: driver kubernetes prints the manifests as YAML, the others the spec')
    .option('--no-wait', 'return at once instead of waiting until ready')
    .option('--timeout <seconds>', 'with waiting: give up after this long', int('--timeout'), 300)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Examples:
  steward deploy acme/bot:1.0.0 --env development --arg llama-server --arg -m --arg '{model_dir}/model.gguf' --arg --port --arg '{port}'
  steward deploy acme/bot:1.0.0 --env production --runtime vllm --replicas 2
  steward deploy acme/bot:1.0.0 --env production --runtime vllm --driver kubernetes --k8s-namespace llm --gpus 1 --min-replicas 1 --max-replicas 4 --dry-run`,
    )
    .action(async (ref: string, o: DeployOptions & GlobalOptions) => {
      const apiKey = process.env.STEWARD_ENDPOINT_API_KEY;
      const r = parseRef(ref);
      if (o.endpointModel && !o.endpoint) throw new UsageError('--endpoint-model goes with --driver external --endpoint URL');
      if ((o.priceIn === undefined) !== (o.priceOut === undefined)) throw new UsageError('give both --price-in and --price-out (USD per million tokens; 0 for free)');
      const env: Record<string, string> = {};
      for (const kv of o.setEnv ?? []) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new UsageError(`--set-env ${JSON.stringify(kv)} must look like KEY=VALUE`);
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const client = clientFor(g(o));
      const t0 = performance.now();
      const created = await client.api((t) => t.deployments.createDeployment)({
        body: {
          model: `${r.name}:${r.ref}`,
          environment: o.env,
          runtime: o.runtime as 'vllm',
          driver: o.driver as 'local',
          ...(o.replicas !== undefined ? { replicas: o.replicas } : {}),
          args: o.arg ?? [],
          env,
          ...(o.readinessPath ? { readinessPath: o.readinessPath } : {}),
          ...(o.endpoint ? { endpoint: { url: o.endpoint, ...(apiKey ? { apiKey } : {}), ...(o.endpointModel ? { model: o.endpointModel } : {}) } } : {}),
          ...(o.priceIn !== undefined && o.priceOut !== undefined ? { pricing: { inputPerMTok: o.priceIn, outputPerMTok: o.priceOut } } : {}),
          ...(o.gpuHourPrice !== undefined ? { gpuHourUsd: o.gpuHourPrice } : {}),
          ...(o.startTimeout !== undefined ? { health: { startTimeoutMs: Math.max(100, o.startTimeout * 1000) } } : {}),
          ...kubernetesFields(o),
          ...(o.dryRun ? { dryRun: true } : {}),
        },
      });
      if ('dryRun' in created) return printDryRun(created, Boolean(o.json));
      let d = created;
      if (o.wait) {
        const end = Date.now() + o.timeout * 1000;
        while (!AT_REST.has(d.state)) {
          if (Date.now() > end) throw new UsageError(`deployment ${d.id} is still ${d.state} after ${o.timeout} s; follow it with steward deployments show ${d.id}`);
          await new Promise((res) => setTimeout(res, 200));
          d = await client.api((t) => t.deployments.getDeployment)({ params: { id: d.id } });
        }
        if (!o.json) process.stderr.write(`${d.state} after ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      }
      if (o.json) printJson(d);
      else printDeployment(d);
      if (d.state === 'failed') process.exitCode = 1;
    });

  const deployments = program.command('deployments').description('Running model servers: list, inspect, logs, stop, scale');
  deployments
    .command('ls')
    .description('List deployments, newest first')
    .option('--model <name>', 'one model')
    .option('--env <env>', 'one environment')
    .option('--state <state>', 'pending, starting, ready, degraded, stopped or failed')
    .option('--limit <n>', 'how many', int('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (o: { model?: string; env?: string; state?: string; limit: number } & GlobalOptions) => {
      const res = await clientFor(g(o)).api((t) => t.deployments.listDeployments)({
        query: { ...(o.model ? { model: o.model } : {}), ...(o.env ? { environment: o.env } : {}), ...(o.state ? { state: o.state as 'ready' } : {}), limit: o.limit },
      });
      if (o.json) return printJson(res);
      printTable(
        ['ID', 'MODEL', 'ENV', 'STATE', 'READY', 'RUNTIME', 'CREATED'],
        res.items.map((d) => [d.id, `${d.model.name}:${d.model.version}`, d.environment, d.state, `${d.replicaStatus.filter((x) => x.state === 'ready').length}/${d.replicas}`, d.runtime, d.createdAt]),
      );
    });
  deployments
    .command('show')
    .description('A deployment: state, replicas, their health')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const d = await clientFor(g(o)).api((t) => t.deployments.getDeployment)({ params: { id } });
      if (o.json) return printJson(d);
      printDeployment(d);
    });
  deployments
    .command('logs')
    .description("A replica's output (stdout and stderr)")
    .argument('<id>', 'deployment id')
    .option('--replica <n>', 'which replica', int('--replica'), 0)
    .option('--tail <n>', 'last lines', int('--tail'), 200)
    .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)')
    .option('--json', 'print JSON')
    .action(async (id: string, o: { replica: number; tail: number; follow?: boolean } & GlobalOptions) => {
      const client = clientFor(g(o));
      const read = () => client.api((t) => t.deployments.deploymentLogs)({ params: { id }, query: { replica: o.replica, tail: o.follow ? 10_000 : Math.max(1, o.tail) } });
      let res = await read();
      if (o.json) return printJson(res);
      let shown = res.lines.slice(-o.tail);
      process.stdout.write(shown.length ? `${shown.join('\n')}\n` : '');
      let seen = res.lines.length;
      while (o.follow) {
        await new Promise((r) => setTimeout(r, 1000));
        res = await read();
        // The window is the last 10,000 lines: print what came after what was seen.
        shown = res.lines.slice(Math.min(seen, res.lines.length));
        if (shown.length) process.stdout.write(`${shown.join('\n')}\n`);
        seen = res.lines.length;
      }
    });
  deployments
    .command('stop')
    .description('Stop every replica gracefully')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action(async (id: string, o: GlobalOptions) => {
      const d = await clientFor(g(o)).api((t) => t.deployments.stopDeployment)({ params: { id } });
      if (o.json) return printJson(d);
      process.stdout.write(`stopping ${d.id} (${d.model.name}:${d.model.version} in ${d.environment})\n`);
    });
  deployments
    .command('scale')
    .description('Set the number of replicas (0: serve nothing, keep the deployment)')
    .argument('<id>', 'deployment id')
    .argument('<replicas>', 'replicas', int('replicas'))
    .option('--json', 'print JSON')
    .action(async (id: string, replicas: number, o: GlobalOptions) => {
      const d = await clientFor(g(o)).api((t) => t.deployments.scaleDeployment)({ params: { id }, body: { replicas } });
      if (o.json) return printJson(d);
      process.stdout.write(`${d.id} scales to ${d.replicas} replica(s)\n`);
    });
}
