/**
 * Shared by the gateway benchmark's orchestrator (bench/gateway.ts) and its load generator
 * (load.ts): what a variant under test is, the messages between the two processes, request
 * bodies, and readings of another process's CPU time and resident memory from /proc.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/** A server under test, as the load generator sees it: requests go to `${url}/v1/...` with `headers`. */
export interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The process whose CPU time is charged to the variant. */
  pid: number;
}

export const CHAT_PATH = '/v1/chat/completions';
const messages = [{ role: 'user', content: 'Say something short.' }];
export const CHAT_BODY = JSON.stringify({ model: 'bench', messages, max_tokens: 32 });
export const STREAM_BODY = JSON.stringify({ model: 'bench', messages, max_tokens: 32, stream: true, stream_options: { include_usage: true } });

/** Closed loop (autocannon): `connections` connections each sending its next request when the last answer ends. */
export interface CannonTask {
  kind: 'cannon';
  id: number;
  target: Target;
  /** The fake upstream's process: it shares the load generator's core, so both are counted there. */
  upstreamPid: number;
  /** Cycled through request by request, per connection. */
  bodies: string[];
  connections: number;
  warmupSeconds: number;
  seconds: number;
}
/** Open loop: requests dispatched at `rate` per second whatever the answers do, over a pool of `connections`. */
export interface PacedTask extends Omit<CannonTask, 'kind'> {
  kind: 'paced';
  rate: number;
}
/** One request at a time, round-robin over every target, so all are measured under the same conditions. */
export interface SequentialTask {
  kind: 'sequential';
  id: number;
  targets: Target[];
  body: string;
  /** Measure to the first body byte (SSE) rather than to the end of the answer. */
  firstByte: boolean;
  warmup: number;
  count: number;
}
export type LoadTask = CannonTask | PacedTask | SequentialTask;

export interface LoadFigures {
  /** Answers received in the measured window (any status). */
  requests: number;
  ok: number;
  /** Non-2xx answers, connection errors and timeouts. */
  errors: number;
  seconds: number;
  /** 2xx answers per second. */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** The target process's user + system CPU time over the measured window, per answer. */
  cpuUsPerRequest: number;
  /**
   * CPU time of the load generator and the fake upstream over the window, as a fraction of it:
   * near 1 means the load core was saturated and req/s measures the load side, not the server.
   */
  loadCoreBusy: number;
  /** Open loop only: requests not sent because a second's worth of answers was still pending. */
  dropped: number;
  /** Errors by kind: `status 502`, an error code such as `UND_ERR_ABORTED`, `not sent`, `timeout`. */
  errorKinds: Record<string, number>;
}
export interface LatencyFigures {
  n: number;
  errors: number;
  p50: number;
  p99: number;
}
export type LoadReply =
  | { id: number; kind: 'load'; figures: LoadFigures }
  | { id: number; kind: 'sequential'; figures: Record<string, LatencyFigures> }
  | { id: number; kind: 'error'; message: string };

let clockTicks: number | undefined;
/** Clock ticks per second of /proc/PID/stat (USER_HZ, almost always 100). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a process (all its threads), in µs, at the kernel's tick resolution. */
export function cpuTimeUs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(rest[11]) + Number(rest[12])) * 1e6) / clkTck();
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}
