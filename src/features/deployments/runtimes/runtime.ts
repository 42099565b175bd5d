/**
 * A model server runtime, as the local driver starts it: its command line for one replica, the
 * executable it needs, and where it answers readiness, liveness and metrics. One file per runtime;
 * `index.ts` is the table.
 */
import type { Runtime } from '../../../contracts/deployments.js';

export interface ReplicaContext {
  host: string;
  port: number;
  /** The materialised version: its files at their manifest paths. */
  modelDir: string;
  /** Manifest paths of the version's files (a runtime may pick its weights file among them). */
  files: readonly string[];
  /** The name clients ask for (`NAME`, without version). */
  model: string;
  /** The deployment's `args`, placeholders replaced. */
  args: readonly string[];
}

export interface RuntimeAdapter {
  name: Runtime;
  /** How the executable is found: a name on PATH, or null when the command names its own (openai-compatible). */
  binary: string | null;
  /** How to install it, for the error when it is missing. */
  install: string;
  command(ctx: ReplicaContext): { cmd: string; args: string[]; env?: Record<string, string> };
  readinessPath: string;
  livenessPath: string;
  metricsPath: string | null;
  /**
   * Driver kubernetes: the container image (pinned) whose PATH has `command`'s executable, or
   * `executable` when the image keeps it elsewhere; null: the deployment must name an image.
   */
  container: { image: string | null; executable?: string };
}

/** `{port}`, `{host}`, `{model_dir}`, `{model}` in an argument, replaced. */
export function fill(arg: string, ctx: Pick<ReplicaContext, 'host' | 'port' | 'modelDir' | 'model'>): string {
  return arg.replaceAll('{port}', String(ctx.port)).replaceAll('{host}', ctx.host).replaceAll('{model_dir}', ctx.modelDir).replaceAll('{model}', ctx.model);
}
