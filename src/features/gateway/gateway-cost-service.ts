/**
 * The cost report (`GET /api/v1/cost`): what serving cost over a period, by model, key,
 * namespace or deployment. Deployments priced per token are metered per request (the usage
 * records' cost); deployments priced by the GPU-hour cost their hours running in the period,
 * shared out by the tokens each group was served, which is also what gives them a cost per
 * million tokens from measured throughput.
 */
import type { z } from 'zod';
import type { CostQuery, CostReport } from '../../contracts/gateway.js';
import { iso, type Clock } from '../../platform/clock.js';
import { errors } from '../../platform/errors.js';
import type { Actor } from '../../platform/http/http-route.js';
import type { DeploymentsService } from '../deployments/deployments-service.js';
import { canonicalTime, costRows } from './gateway-fns.js';
import type { GatewayRepo } from './gateway-repo.js';

/** The default period: thirty days, a month's bill. */
const DEFAULT_PERIOD_MS = 30 * 86_400_000;

export function createCostService(deps: { repo: GatewayRepo; deployments: Pick<DeploymentsService, 'hourlyCosts'>; clock: Clock }) {
  return {
    async report(q: z.output<typeof CostQuery>, actor: Actor): Promise<CostReport> {
      const now = deps.clock.now();
      const until = q.until === undefined ? iso(now) : canonicalTime(q.until);
      const since = q.since === undefined ? (until ? iso(new Date(Date.parse(until) - DEFAULT_PERIOD_MS)) : null) : canonicalTime(q.since);
      if (!since || !until) throw errors.invalid('since and until are times (RFC 3339, e.g. 2025-01-31T00:00:00Z)', { since: q.since, until: q.until });
      if (since >= until) throw errors.invalid(`since (${since}) must be before until (${until})`, { since, until });
      const usage = await deps.repo.tokensByDeployment(q.groupBy, { since, until, ...(q.model ? { model: q.model } : {}), ...(q.namespace ? { namespace: q.namespace } : {}), namespaces: actor.namespaces });
      const hourly = (await deps.deployments.hourlyCosts(since, until, actor.namespaces)).filter((d) => (!q.model || d.model === q.model) && (!q.namespace || d.namespace === q.namespace));
      const num = (v: unknown) => Number(v ?? 0);
      const items = costRows(
        q.groupBy,
        usage.map((u) => ({ deployment: u.deployment, group: u.grp, requests: num(u.requests), inputTokens: num(u.input_tokens), outputTokens: num(u.output_tokens), tokenCostUsd: num(u.cost_usd) })),
        hourly,
        { since, until, now },
      );
      return { groupBy: q.groupBy, since, until, items };
    },
  };
}
