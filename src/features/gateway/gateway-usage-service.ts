/**
 * Usage reported by gateways: each batch is stored in one transaction with the spend it adds to
 * each key, and recorded by (gateway, batch), so a batch a gateway sends again (its answer was
 * lost) is counted once. Reports aggregate in SQL. Batches are telemetry, not decisions: they are
 * not written to the audit log (a busy gateway would flood the hash chain). Features that derive
 * figures from usage (monitoring's rollups) register a listener called inside the ingest
 * transaction with the stored rows: what they write commits with the batch, so a replayed batch
 * is counted once there too.
 */
import type { z } from 'zod';
import type { UsageBatch, UsageIngestResponse, UsageQuery } from '../../contracts/gateway.js';
import { iso, type Clock } from '../../platform/clock.js';
import { errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { EventsService } from '../events/events-service.js';
import { canonicalTime, spendByKey, summariseWindow, thresholdsCrossed, usageRow, type UsageWindow } from './gateway-fns.js';
import type { GatewayRepo, UsageRow } from './gateway-repo.js';

/** Called inside the ingest transaction (`tx`) with the rows of a batch stored for the first time. */
export type UsageListener = (tx: AnyDb, rows: readonly UsageRow[]) => Promise<void>;

/**
 * Rows a window reads at most. Percentiles are not portable SQL (SQLite has none), so a window is
 * summarised from its rows; windows are seconds long, so at a few hundred requests a second this
 * bound is never reached, and past it the newest rows are what an analysis should judge anyway.
 */
const WINDOW_ROW_LIMIT = 20_000;

export function createUsageService(deps: { repo: GatewayRepo; clock: Clock; events: Pick<EventsService, 'emit'> }) {
  const { repo, clock } = deps;
  const listeners: UsageListener[] = [];
  return {
    onUsageIngested(fn: UsageListener): void {
      listeners.push(fn);
    },

    usageByRequest: (requestId: string) => repo.usageByRequest(requestId),
    pruneUsage: (before: string) => repo.pruneUsage(before),

    /** A deployment's (or version's, or environment's) traffic since a time: requests, errors, p95s, tokens per second. */
    async window(q: { model: string; environment?: string; deployment?: string; version?: string; shadow?: boolean; since: Date }): Promise<UsageWindow> {
      const rows = await repo.usageWindow({ ...q, since: iso(q.since), limit: WINDOW_ROW_LIMIT });
      return summariseWindow(rows, WINDOW_ROW_LIMIT);
    },

    async ingest(batch: UsageBatch): Promise<UsageIngestResponse> {
      // Validated whole before anything is written: a bad record refuses the batch.
      const rows = batch.records.map((r, i) => {
        const at = canonicalTime(r.at);
        if (!at) throw errors.invalid(`records[${i}].at ${JSON.stringify(r.at)} is not a time (RFC 3339)`, { index: i });
        return usageRow(batch.gateway, batch.batch, i, at, r);
      });
      return repo.transaction(async (r, trx) => {
        if (!(await r.claimBatch({ gateway: batch.gateway, batch: batch.batch, records: rows.length, received_at: iso(clock.now()) }))) return { accepted: 0, duplicate: true };
        await r.insertUsage(rows);
        for (const fn of listeners) await fn(trx as unknown as AnyDb, rows);
        for (const [key, usd] of spendByKey(batch.records)) {
          const before = await r.key(key);
          await r.addSpend(key, usd);
          if (!before) continue;
          // Read back rather than added here: the stored sum is what the key reports.
          const spent = (await r.key(key))?.spent_usd ?? before.spent_usd + usd;
          // In the batch's transaction: a replayed batch adds no spend and so alerts nothing again.
          for (const threshold of thresholdsCrossed(before.spent_usd, spent, before.budget_usd)) {
            await deps.events.emit(trx as unknown as AnyDb, {
              type: 'gateway.budget.threshold',
              subject: `gateway-key:${key}`,
              namespace: before.namespace,
              data: { key: { id: key, name: before.name }, namespace: before.namespace, threshold, spentUsd: spent, budgetUsd: before.budget_usd! },
            });
          }
        }
        return { accepted: rows.length, duplicate: false };
      });
    },

    async report(q: z.output<typeof UsageQuery>, actor: Actor) {
      const since = q.since === undefined ? undefined : canonicalTime(q.since);
      const until = q.until === undefined ? undefined : canonicalTime(q.until);
      if (since === null || until === null) throw errors.invalid('since and until are times (RFC 3339, e.g. 2025-01-31T00:00:00Z)', { since: q.since, until: q.until });
      const rows = await repo.aggregate(q.groupBy, {
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
        ...(q.model ? { model: q.model } : {}),
        ...(q.key ? { key: q.key } : {}),
        ...(q.namespace ? { namespace: q.namespace } : {}),
        namespaces: actor.namespaces,
      });
      const num = (v: unknown) => Number(v ?? 0);
      const avg = (v: unknown) => (v === null || v === undefined ? null : Number(v));
      return {
        groupBy: q.groupBy,
        items: rows.map((r) => ({
          group: r.grp,
          requests: num(r.requests),
          errors: num(r.errors),
          inputTokens: num(r.input_tokens),
          outputTokens: num(r.output_tokens),
          costUsd: num(r.cost_usd),
          latencyMsAvg: avg(r.latency_avg),
          ttftMsAvg: avg(r.ttft_avg),
        })),
      };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
