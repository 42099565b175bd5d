import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../contracts/events.js';
import { WebhookPayload } from '../../contracts/notify.js';
import { conditionsHold, cronProblem, shownUrl, EVENT_FAMILIES, intervalMs, jsonBody, matchesPatterns, nextFiring, sign, slackBody, summarise, unknownPattern, verifySignature, type Notice } from './notify-fns.js';

const notice = (type: string, data: Record<string, unknown>, extra: Partial<Notice> = {}): Notice => ({ type, seq: 7, at: '2026-01-01T00:00:00.000Z', subject: 'model:acme/chat', namespace: 'acme', data, ...extra });

describe('event patterns', () => {
  it('match exact types, prefixes ending in .* and *', () => {
    expect(matchesPatterns(['rollout.aborted'], 'rollout.aborted')).toBe(true);
    expect(matchesPatterns(['rollout.aborted'], 'rollout.aborted.more')).toBe(false);
    expect(matchesPatterns(['slo.alert.*'], 'slo.alert.firing')).toBe(true);
    expect(matchesPatterns(['slo.alert.*'], 'slo.alerting')).toBe(false);
    expect(matchesPatterns(['slo.*'], 'slo.alert.resolved')).toBe(true);
    expect(matchesPatterns(['*'], 'version.ready')).toBe(true);
    expect(matchesPatterns(['version.ready', 'alias.moved'], 'eval.run.finished')).toBe(false);
  });

  it('are checked against the known event types and the families other features emit', () => {
    expect(unknownPattern('version.ready', EVENT_TYPES, EVENT_FAMILIES)).toBeNull();
    expect(unknownPattern('gateway.*', EVENT_TYPES, EVENT_FAMILIES)).toBeNull();
    expect(unknownPattern('slo.alert.*', EVENT_TYPES, EVENT_FAMILIES)).toBeNull();
    expect(unknownPattern('rollout.aborted', EVENT_TYPES, EVENT_FAMILIES)).toBeNull();
    expect(unknownPattern('*', EVENT_TYPES, EVENT_FAMILIES)).toBeNull();
    expect(unknownPattern('version.readyy', EVENT_TYPES, EVENT_FAMILIES)).toMatch(/not an event type/);
    expect(unknownPattern('nothing.*', EVENT_TYPES, EVENT_FAMILIES)).toMatch(/no event type starts with nothing\./);
  });
});

describe('signatures', () => {
  it('are HMAC-SHA256 of TIMESTAMP.BODY with the secret, hex, prefixed sha256=', () => {
    const body = '{"a":1}';
    const expected = createHmac('sha256', 's3cret-s3cret-s3cret').update(`1700000000.${body}`).digest('hex');
    expect(sign('s3cret-s3cret-s3cret', 1_700_000_000, body)).toBe(`sha256=${expected}`);
  });

  it('verify only the same secret, body and a recent timestamp', () => {
    const body = '{"a":1}';
    const h = sign('secret-one-secret-one', 1000, body);
    expect(verifySignature('secret-one-secret-one', h, 1000, body, 1100)).toBe(true);
    expect(verifySignature('secret-two-secret-two', h, 1000, body, 1100)).toBe(false);
    expect(verifySignature('secret-one-secret-one', h, 1000, '{"a":2}', 1100)).toBe(false);
    // The same signature presented with another timestamp, or replayed too late.
    expect(verifySignature('secret-one-secret-one', h, 1001, body, 1100)).toBe(false);
    expect(verifySignature('secret-one-secret-one', h, 1000, body, 1000 + 301)).toBe(false);
  });
});

describe('event in words', () => {
  const slo = {
    model: 'chat-model',
    environment: 'production',
    slo: 'availability',
    severity: 'page',
    objective: 0.999,
    window: '30d',
    budgetRemaining: 0.4,
    burnRates: [
      { long: '6h', short: '30m', factor: 6, longBurn: 7.2, shortBurn: 8, firing: true },
      { long: '1h', short: '5m', factor: 14.4, longBurn: 14.6, shortBurn: 15.1, firing: true },
    ],
  };
  it('says an SLO alert with the fastest firing burn rate, its window and the severity', () => {
    expect(summarise(notice('slo.alert.firing', slo))).toBe('🔴 SLO alert firing: chat-model in production [availability] — burn rate 14.6× over 1h (page)');
    const slower = { ...slo, severity: 'ticket', burnRates: [slo.burnRates[0], { ...slo.burnRates[1], firing: false }] };
    expect(summarise(notice('slo.alert.firing', slower))).toBe('🔴 SLO alert firing: chat-model in production [availability] — burn rate 7.2× over 6h (ticket)');
    expect(summarise(notice('slo.alert.resolved', { ...slo, burnRates: slo.burnRates.map((b) => ({ ...b, firing: false })) }))).toMatch(/^🟢 SLO alert resolved: chat-model in production \[availability\] — burn rate 14\.6× over 1h/);
  });

  it('says a budget threshold, drift and a failed evaluation', () => {
    expect(summarise(notice('gateway.budget.threshold', { key: { id: 'key_1', name: 'support-bot' }, namespace: 'acme', threshold: 0.8, spentUsd: 8.02, budgetUsd: 10 }))).toBe('🟠 Budget: key support-bot (acme) has spent $8.02 of $10.00 (80 %)');
    const drift = { model: 'acme/chat', environment: 'production', level: 'warn', metrics: [{ name: 'prompt_tokens', psi: 0.21, level: 'warn' }, { name: 'latency_ms', psi: 0.02, level: 'ok' }, { name: 'ttft_ms', psi: null, level: 'unknown' }] };
    expect(summarise(notice('monitoring.drift.detected', drift))).toBe('🟠 Drift warn: acme/chat in production — prompt_tokens PSI 0.21');
    expect(summarise(notice('monitoring.drift.detected', { ...drift, level: 'alert' }))).toMatch(/^🔴 Drift alert/);
    expect(summarise(notice('eval.run.finished', { runId: 'r', model: { name: 'acme/chat', version: '1.2.0' }, suite: { name: 'acme/qa', version: '1.0.0' }, state: 'succeeded', passed: false }))).toBe('🔴 Evaluation acme/qa of acme/chat@1.2.0 succeeded, failed its thresholds');
  });

  it('says a rollout, and falls back to the type, subject and new state for other events', () => {
    const r = { id: 'ro_1', model: 'acme/chat', environment: 'production', strategy: 'canary', state: 'aborted', stable: '1.0.0', candidate: '1.1.0', reason: 'error rate 7.5 % > 5 %' };
    expect(summarise(notice('rollout.aborted', r))).toBe('🔴 Rollout aborted: acme/chat in production 1.0.0 → 1.1.0 — error rate 7.5 % > 5 %');
    expect(summarise(notice('rollout.step', { ...r, state: 'progressing', reason: null, step: 1, weight: 25 }))).toBe('🚀 Rollout stepped: acme/chat in production 1.0.0 → 1.1.0, candidate at 25 %');
    expect(summarise(notice('deployment.state.changed', { id: 'dep_1', to: 'failed' }, { subject: 'deployment:dep_1' }))).toBe('🔴 deployment.state.changed: deployment:dep_1 → failed');
  });

  it('builds the Slack body (text and blocks) and the JSON body (the contract)', () => {
    const n = notice('slo.alert.firing', slo);
    const s = slackBody('dlv_1', n);
    expect(s.text).toMatch(/^🔴 SLO alert firing/);
    expect(s.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: s.text } });
    expect(JSON.stringify(s.blocks)).toContain('*severity*\\npage');
    // Only scalar fields become Slack fields; nested ones stay in the JSON format.
    expect(JSON.stringify(s.blocks)).not.toContain('shortBurn');
    expect(JSON.stringify(s.blocks)).toContain('delivery dlv_1');
    const j = WebhookPayload.parse(jsonBody('dlv_1', n));
    expect(j).toMatchObject({ id: 'dlv_1', type: 'slo.alert.firing', seq: 7, data: n.data, summary: s.text });
  });
});

describe('trigger conditions', () => {
  const data = { score: 0.41, passed: false, drift: { value: 3 }, metric: 'input_length', metrics: [{ name: 'a', psi: 0.1 }, { name: 'b', psi: 0.5 }] };
  it('compare numbers, equal any scalar, and fail on a missing field', () => {
    expect(conditionsHold([{ field: 'score', op: 'gt', value: 0.3 }], data)).toBe(true);
    expect(conditionsHold([{ field: 'score', op: 'gt', value: 0.5 }], data)).toBe(false);
    expect(conditionsHold([{ field: 'score', op: 'lte', value: 0.41 }], data)).toBe(true);
    expect(conditionsHold([{ field: 'drift.value', op: 'gte', value: 3 }], data)).toBe(true);
    expect(conditionsHold([{ field: 'passed', op: 'eq', value: false }], data)).toBe(true);
    expect(conditionsHold([{ field: 'metric', op: 'ne', value: 'input_length' }], data)).toBe(false);
    expect(conditionsHold([{ field: 'absent', op: 'ne', value: 1 }], data)).toBe(false);
    expect(conditionsHold([{ field: 'metric', op: 'gt', value: 1 }], data)).toBe(false);
    expect(conditionsHold([{ field: 'score', op: 'gt', value: 0.3 }, { field: 'passed', op: 'eq', value: true }], data)).toBe(false);
    expect(conditionsHold([], data)).toBe(true);
  });

  it('hold through an array when any element does', () => {
    expect(conditionsHold([{ field: 'metrics.psi', op: 'gt', value: 0.3 }], data)).toBe(true);
    expect(conditionsHold([{ field: 'metrics.psi', op: 'gt', value: 0.6 }], data)).toBe(false);
    expect(conditionsHold([{ field: 'metrics.name', op: 'eq', value: 'b' }], data)).toBe(true);
  });
});

describe('schedules', () => {
  const t0 = new Date('2026-03-04T10:17:30.000Z');
  it('fire an interval after the last firing', () => {
    expect(intervalMs('30m')).toBe(1_800_000);
    expect(nextFiring({ every: '6h' }, t0)).toEqual(new Date('2026-03-04T16:17:30.000Z'));
    expect(nextFiring({ event: 'version.ready', where: [] }, t0)).toBeNull();
  });

  it('fire a cron expression at its next match, in UTC', () => {
    expect(nextFiring({ schedule: '0 3 * * *' }, t0)).toEqual(new Date('2026-03-05T03:00:00.000Z'));
    expect(nextFiring({ schedule: '*/15 * * * *' }, t0)).toEqual(new Date('2026-03-04T10:30:00.000Z'));
    // 2026-03-04 is a Wednesday: the next Monday 09:00.
    expect(nextFiring({ schedule: '0 9 * * 1' }, t0)).toEqual(new Date('2026-03-09T09:00:00.000Z'));
  });

  it('refuse a cron expression that is not five fields or does not parse', () => {
    expect(cronProblem('0 3 * * *')).toBeNull();
    expect(cronProblem('0 3 * *')).toMatch(/five fields/);
    expect(cronProblem('0 0 3 * * *')).toMatch(/five fields/);
    expect(cronProblem('61 3 * * *')).toMatch(/not a cron expression/);
  });
});

describe('webhook URLs as shown', () => {
  it('cut tokens in the path and the query, keep the rest', () => {
    expect(shownUrl('https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/abcdefghijklmnopqrstuvwx')).toBe('https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/abcd…');
    expect(shownUrl('https://ops.example.com/steward?team=a&sig=0123456789abcdef0123')).toBe('https://ops.example.com/steward?team=a&sig=0123…');
    expect(shownUrl('http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/hook');
  });
});
