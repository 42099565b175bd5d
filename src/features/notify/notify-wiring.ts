/**
 * The notify module: webhooks, their deliveries (`webhook.deliver` jobs) and retraining
 * triggers (`trigger.schedule` jobs). One durable event subscriber (`notify`) takes every event
 * type: for each event it records a delivery per webhook that takes it and per event trigger
 * that fires, in the event's transaction.
 */
import { EVENT_TYPES } from '../../contracts/events.js';
import { createEndpointPolicy } from '../../platform/http/http-endpoint-policy.js';
import { defineModule } from '../../platform/module.js';
import { createDeliveries } from './notify-delivery.js';
import { notifyMigrations } from './notify-migrations.js';
import { createNotifyRepo } from './notify-repo.js';
import { notifyRoutes } from './notify-routes.js';
import { createNotifyService, type NotifyService } from './notify-service.js';
import { createTriggersService, type TriggersService } from './notify-triggers-service.js';

export type NotifyFeature = NotifyService & { triggers: TriggersService };

declare module '../../platform/module.js' {
  interface Provided {
    notify: NotifyFeature;
  }
}

/** Deliveries in flight at once per replica: a hung endpoint holds one slot for its timeout, others keep flowing. */
const DELIVERY_CONCURRENCY = 16;

export const notifyModule = defineModule({
  name: 'notify',
  needs: ['audit', 'events', 'jobs'],
  migrations: notifyMigrations,
  setup({ sql, clock, config, need }) {
    const audit = need('audit');
    const events = need('events');
    const jobs = need('jobs');
    const repo = createNotifyRepo(sql.db);
    const policy = createEndpointPolicy(config.webhookAllow, 'STEWARD_WEBHOOK_ALLOW');
    const deliveries = createDeliveries({
      repo,
      jobs,
      clock,
      policy,
      settings: { timeoutMs: config.webhookTimeoutMs, maxAttempts: config.webhookMaxAttempts, retryBaseMs: config.webhookRetryBaseMs, concurrency: DELIVERY_CONCURRENCY },
    });
    const hooks = createNotifyService({ repo, deliveries, audit, policy, clock });
    const triggers = createTriggersService({ repo, deliveries, jobs, audit, hookFor: hooks.hookFor, clock });
    jobs.register(deliveries.job);
    jobs.register(triggers.job);
    events.subscribe({
      name: 'notify',
      types: EVENT_TYPES,
      async handle(event, tx) {
        const n = (await hooks.onEvent(event, tx)) + (await triggers.onEvent(event, tx));
        if (n) deliveries.poke();
      },
    });
    return { provides: { ...hooks, triggers }, routes: () => notifyRoutes(hooks, triggers) };
  },
});
