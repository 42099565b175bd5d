// How to start the built-in runtime as a child process: the compiled main.js next to this file,
// or main.ts through tsx when running from source (tests, `node --import tsx`).
import { fileURLToPath } from 'node:url';

export interface BuiltinArgs {
  modelPath: string;
  port: number;
  host?: string;
  threads?: number;
  contextSize?: number;
  modelName?: string;
  maxTokens?: number;
  /** Share of completion requests failed on purpose (drills, demos). */
  faultRate?: number;
}

export function builtinRuntimeCommand(a: BuiltinArgs): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const main = fileURLToPath(new URL(fromSource ? './main.ts' : './main.js', import.meta.url));
  const args = [...(fromSource ? ['--import', 'tsx'] : []), main, '--model', a.modelPath, '--port', String(a.port)];
  if (a.host) args.push('--host', a.host);
  if (a.threads !== undefined) args.push('--threads', String(a.threads));
  if (a.contextSize !== undefined) args.push('--context-size', String(a.contextSize));
  if (a.modelName) args.push('--model-name', a.modelName);
  if (a.maxTokens !== undefined) args.push('--max-tokens', String(a.maxTokens));
  if (a.faultRate) args.push('--fault-rate', String(a.faultRate));
  return { command: process.execPath, args };
}
