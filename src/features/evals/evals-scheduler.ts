/**
 * Background execution of evaluation runs on this replica. Runs live in the database; a replica
 * claims a queued run (or a running one whose claim expired: its runner crashed or stalled) with a
 * lease it renews at every results batch, so N replicas share the work and a crash is taken over
 * once the lease runs out. API keys are held in memory only: a run that needs one this replica
 * does not hold becomes `interrupted` and waits for `resume` with the key.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { addSeconds, iso, type Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { EvalsRepo } from './evals-repo.js';
import { executeRun, RunLostError, type JudgeSettings, type RunKeys, type RunnerDeps } from './evals-runner.js';

export interface EvalsScheduler {
  poke(): void;
  stop(runId: string): void;
  setKeys(runId: string, keys: RunKeys): void;
  /** Runs executing on this replica now. */
  active(): string[];
  close(): Promise<void>;
}

export function createEvalsScheduler(deps: {
  repo: EvalsRepo;
  clock: Clock;
  log: Logger;
  settings: { leaseSeconds: number; maxActiveRuns: number };
  runner: () => RunnerDeps;
}): EvalsScheduler {
  const { repo, clock, log, settings } = deps;
  const replica = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const active = new Map<string, { ctl: AbortController; done: Promise<void> }>();
  const keys = new Map<string, RunKeys>();
  let closed = false;
  let scanning: Promise<void> | null = null;
  let again = false;

  async function scan(): Promise<void> {
    const now = clock.now();
    const free = settings.maxActiveRuns - active.size;
    if (free <= 0) return;
    const candidates = await repo.claimable(iso(now), free + 8);
    for (const c of candidates) {
      if (closed || active.size >= settings.maxActiveRuns) return;
      if (active.has(c.id)) continue;
      const k = keys.get(c.id) ?? {};
      const judgeAuth = c.judge ? (JSON.parse(c.judge) as JudgeSettings).auth : false;
      if ((c.endpoint_auth === 1 && !k.apiKey) || (judgeAuth && !k.judgeApiKey)) {
        const lost = await repo.setState(
          c.id,
          { state: 'interrupted', lease_owner: null, lease_expires_at: null, error: 'this run needs its endpoint API key again (keys are never stored): resume it with `steward eval resume RUN` and STEWARD_ENDPOINT_API_KEY set' },
          { states: [c.state] },
        );
        if (lost) log.warn({ run: c.id }, 'eval run interrupted: its API key is not held by this replica');
        continue;
      }
      const until = iso(addSeconds(now, settings.leaseSeconds));
      // One owner id per execution, not per replica: an execution that is winding down after a
      // cancel can then never renew, or release, the claim of the execution that resumed the run.
      const owner = `${replica}:${randomBytes(4).toString('hex')}`;
      if (!(await repo.claim(c.id, owner, iso(now), until, ['queued', 'running']))) continue;
      const ctl = new AbortController();
      const entry: { ctl: AbortController; done: Promise<void> } = { ctl, done: Promise.resolve() };
      entry.done = executeRun(deps.runner(), c.id, owner, k, ctl.signal)
        .catch((err: unknown) => log.error({ err, run: c.id }, 'eval run crashed'))
        .finally(() => {
          if (active.get(c.id) === entry) active.delete(c.id);
          if (!ctl.signal.aborted) keys.delete(c.id);
          if (!closed) poke();
        });
      active.set(c.id, entry);
      log.info({ run: c.id }, 'eval run claimed');
    }
  }

  function poke(): void {
    if (closed) return;
    if (scanning) {
      again = true;
      return;
    }
    scanning = scan()
      .catch((err: unknown) => log.error({ err }, 'eval scheduler scan failed'))
      .finally(() => {
        scanning = null;
        if (again) {
          again = false;
          poke();
        }
      });
  }

  // Picks up runs other replicas dropped (their lease expired) and runs queued elsewhere.
  const timer = setInterval(poke, Math.max(250, (settings.leaseSeconds * 1000) / 2));
  timer.unref();
  poke();

  return {
    poke,
    stop(runId) {
      active.get(runId)?.ctl.abort(new RunLostError('cancelled'));
    },
    setKeys(runId, k) {
      keys.set(runId, k);
    },
    active: () => [...active.keys()],
    async close() {
      closed = true;
      clearInterval(timer);
      await scanning;
      for (const a of active.values()) a.ctl.abort(new Error('shutdown'));
      await Promise.all([...active.values()].map((a) => a.done));
    },
  };
}
