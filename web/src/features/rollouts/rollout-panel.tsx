/**
 * One rollout as the pages show it: candidate against stable, the live split as a bar, each step
 * with the analysis that judged it (candidate and stable error rate and p95, the verdict and its
 * checks), the experiment's report, and the timeline.
 */
import { Link } from 'react-router';
import type { AnalysisResult, ArmMetrics, RolloutDetail } from '../../../../src/contracts/rollouts.js';
import { paths } from '../../app/paths.js';
import { formatDate, formatMs, formatPercent, timeAgo } from '../../ui/format.js';
import { Card } from '../../ui/layout.js';
import { Pill } from '../../ui/pill.js';
import { ARM_COLORS } from '../deployments/traffic-split.js';
import { candidateShare, stepLabel, stepViews, type StepView } from './rollout-fns.js';

const STEP_TONE: Record<StepView['status'], string> = { done: 'succeeded', current: 'running', upcoming: 'queued', stopped: 'aborted', skipped: 'cancelled' };

export function RolloutSplit({ rollout }: { rollout: RolloutDetail }) {
  const cand = candidateShare(rollout);
  const arms = [
    { label: `stable ${rollout.stable.version}`, share: 100 - cand, deployment: rollout.stable.deployment, color: ARM_COLORS[0] },
    { label: `candidate ${rollout.candidate.version}`, share: cand, deployment: rollout.candidate.deployment, color: ARM_COLORS[1] },
  ];
  const shadow = rollout.strategy === 'shadow' && rollout.step >= 0 ? rollout.steps[rollout.step]?.shadowPercent : null;
  return (
    <div className="stack" style={{ gap: 10 }}>
      <div className="split-bar" role="img" aria-label={`rollout split: ${arms.map((a) => `${a.label} ${a.share}%`).join(', ')}`}>
        {arms.map((a) => (
          <div key={a.label} style={{ width: `${a.share}%`, background: a.color }}>
            {a.share >= 12 ? `${a.share}%` : ''}
          </div>
        ))}
      </div>
      <div className="legend">
        {arms.map((a) => (
          <span key={a.label}>
            <i style={{ background: a.color }} />
            {a.deployment ? <Link to={paths.deployment(a.deployment)}>{a.label}</Link> : a.label} · {a.share}%
          </span>
        ))}
        {shadow ? <span>shadow: {shadow}% of requests mirrored to the candidate</span> : null}
      </div>
    </div>
  );
}

function Evidence({ arm, label }: { arm: ArmMetrics | null; label: string }) {
  if (!arm) return null;
  return (
    <div className="evidence-arm">
      <div className="evidence-label">{label}</div>
      <div className="mono">
        {arm.requests} req · err {formatPercent(arm.errorRate)} · p95 {formatMs(arm.p95LatencyMs)}
        {arm.p95TtftMs !== null ? ` · ttft ${formatMs(arm.p95TtftMs)}` : ''}
      </div>
    </div>
  );
}

export function AnalysisEvidence({ analysis }: { analysis: AnalysisResult }) {
  return (
    <div className="evidence">
      <div className="row">
        <Pill state={analysis.verdict} />
        <span>{analysis.reason}</span>
        <span className="spacer" />
        <span className="muted" title={formatDate(analysis.at)}>
          {timeAgo(analysis.at)}
        </span>
      </div>
      <div className="evidence-arms">
        <Evidence arm={analysis.candidate} label="Candidate" />
        <Evidence arm={analysis.stable} label="Stable" />
      </div>
      {analysis.checks.length ? (
        <ul className="checks">
          {analysis.checks.map((c) => (
            <li key={c.name}>
              <Pill state={c.status} /> <strong>{c.name}</strong> <span className="muted">{c.reason}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function RolloutSteps({ rollout }: { rollout: RolloutDetail }) {
  return (
    <ol className="rollout-steps">
      {stepViews(rollout).map((v) => (
        <li key={v.index} className={`rollout-step rollout-step-${v.status}`} data-status={v.status}>
          <div className="row">
            <span className="step-index">{v.index + 1}</span>
            <strong>{stepLabel(v.step)}</strong>
            <span className="muted">held {v.step.holdSeconds} s{v.step.analyse ? ', analysed' : ''}</span>
            <span className="spacer" />
            <Pill state={STEP_TONE[v.status]} label={v.status} />
          </div>
          {v.analysis ? <AnalysisEvidence analysis={v.analysis} /> : v.status === 'current' && v.step.analyse ? <div className="muted evidence">Waiting for the first analysis…</div> : null}
        </li>
      ))}
    </ol>
  );
}

export function RolloutTimeline({ rollout }: { rollout: RolloutDetail }) {
  return (
    <ol className="timeline">
      {[...rollout.timeline].reverse().map((e) => (
        <li key={e.seq} className={`timeline-${e.kind}`}>
          <span className="timeline-at" title={formatDate(e.at)}>
            {new Date(e.at).toLocaleTimeString()}
          </span>
          <span className="tag">{e.step !== null ? `step ${e.step + 1}` : e.kind}</span>
          <span>{e.message}</span>
        </li>
      ))}
    </ol>
  );
}

/** The whole rollout: summary, split, steps and timeline. */
export function RolloutPanel({ rollout, timeline = true }: { rollout: RolloutDetail; timeline?: boolean }) {
  return (
    <div className="stack">
      {rollout.reason ? <div style={{ margin: 0 }} className={`banner ${rollout.state === 'paused' ? 'banner-warn' : rollout.state === 'succeeded' ? 'banner-good' : 'banner-bad'}`}>{rollout.reason}</div> : null}
      <Card title="Live split" actions={<span className="muted">{rollout.strategy} · step {Math.max(0, rollout.step + 1)} of {rollout.steps.length}</span>}>
        <RolloutSplit rollout={rollout} />
      </Card>
      <div className={timeline ? 'grid-rollout' : 'stack'}>
        <Card title="Steps and analyses">
          <RolloutSteps rollout={rollout} />
        </Card>
        {timeline ? (
          <Card title="Timeline">
            <RolloutTimeline rollout={rollout} />
          </Card>
        ) : null}
      </div>
      {rollout.report ? (
        <Card title="Experiment report">
          <p>{rollout.report.conclusion}</p>
          <div className="mono muted">
            error rate difference {formatPercent(rollout.report.errorRateDifference.estimate)} ({formatPercent(rollout.report.errorRateDifference.low)} to {formatPercent(rollout.report.errorRateDifference.high)}) · latency difference {formatMs(rollout.report.latencyDifferenceMs.estimate)}
          </div>
        </Card>
      ) : null}
    </div>
  );
}
