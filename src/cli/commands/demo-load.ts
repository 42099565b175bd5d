/**
 * The demo's background load: chat requests at a steady rate through the gateway, counted by
 * status and by the deployment that served them (the gateway's `x-steward-deployment` header), so
 * the demo can say when the canary got its first and its last request.
 */
export interface LoadReport {
  sent: number;
  byStatus: Record<string, number>;
  byDeployment: Record<string, number>;
}

export function startLoad(url: string, key: string, model: string, perSecond: number) {
  const byStatus = new Map<string, number>();
  const byDeployment = new Map<string, { n: number; first: number; last: number }>();
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let owed = 0;
  let last = Date.now();
  const one = async (): Promise<void> => {
    const sentAt = Date.now();
    let status = '0';
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say something.' }], max_tokens: 4 }),
        signal: AbortSignal.timeout(30_000),
      });
      await res.arrayBuffer();
      status = String(res.status);
      const dep = res.headers.get('x-steward-deployment');
      if (dep) {
        const d = byDeployment.get(dep) ?? { n: 0, first: sentAt, last: sentAt };
        d.n++;
        d.last = Math.max(d.last, sentAt);
        byDeployment.set(dep, d);
      }
    } catch {
      status = 'network error';
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  };
  // Owed by the clock, not by ticks: a busy event loop sends late, not less.
  const timer = setInterval(() => {
    const now = Date.now();
    owed += ((now - last) / 1000) * perSecond;
    last = now;
    for (; owed >= 1; owed--) {
      sent++;
      const p = one().finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
  }, 25);
  let stopped = false;
  return {
    report: (): LoadReport => ({ sent, byStatus: Object.fromEntries(byStatus), byDeployment: Object.fromEntries([...byDeployment].map(([k, v]) => [k, v.n])) }),
    /** When the deployment got its first and its last request (by when they were sent), if it got any. */
    candidateWindow: (deployment: string): { first: number; last: number; requests: number } | null => {
      const d = byDeployment.get(deployment);
      return d ? { first: d.first, last: d.last, requests: d.n } : null;
    },
    async stop(): Promise<void> {
      if (!stopped) clearInterval(timer);
      stopped = true;
      await Promise.all(inFlight);
    },
  };
}
