/**
 * Domain events: a feature records what happened with `emit(tx, event)` inside the transaction
 * that made the change, so a rolled-back change leaves no event and a committed one always has
 * one. Delivery is at least once and in order:
 * - durable subscribers (`subscribe`) keep a cursor in the database. Each batch is delivered
 *   inside one transaction that also moves the cursor, so what a handler writes through the
 *   given `tx` (typically: enqueue a job) happens exactly once with the cursor; other effects
 *   happen at least once. A handler that throws rolls the batch back and is retried with
 *   backoff; on PostgreSQL one replica at a time holds a subscriber (`FOR UPDATE SKIP LOCKED`).
 * - other processes read `GET /api/v1/events?after=SEQ` (long poll) with their own cursor.
 * Handlers must be short (SQLite has one writer): slow work belongs in a job.
 */
import { EVENT_DATA, type DomainEvent, type EventType, type NewEvent } from '../../contracts/events.js';
import { iso, type Clock } from '../../platform/clock.js';
import type { Logger } from '../../platform/log.js';
import type { AnyDb } from '../../platform/sql/sql-db.js';
import type { EventRow, EventsRepo } from './events-repo.js';

export interface Subscriber {
  /** Stable name: the cursor is stored under it. */
  name: string;
  types: readonly EventType[];
  /** Where a new subscriber starts: events from now on (default), or the whole log. */
  from?: 'now' | 'start';
  handle(event: DomainEvent, tx: AnyDb): Promise<void>;
}

/** Events one delivery transaction handles at most: bounds how long it holds the writer. */
const BATCH = 100;
/** Backoff of a failing subscriber: doubles from 100 ms up to 30 s. */
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 30_000;

export function toDomainEvent(r: EventRow): DomainEvent {
  return { seq: r.seq, at: r.at, type: r.type as EventType, subject: r.subject, namespace: r.namespace, data: JSON.parse(r.data) as Record<string, unknown> };
}

export function createEventsService(deps: { repo: EventsRepo; clock: Clock; log: Logger; settings: { pollMs: number } }) {
  const { repo, clock, log } = deps;
  const subscribers: { sub: Subscriber; failures: number; retryAt: number }[] = [];
  const waiters = new Set<{ after: number; wake: () => void }>();
  let head = 0;
  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let pass: Promise<void> | null = null;
  let again = false;

  async function deliver(s: (typeof subscribers)[number], upTo: number): Promise<boolean> {
    const { sub } = s;
    return repo.transaction(async (tx) => {
      const cursor = await repo.lockCursor(tx, sub.name);
      if (cursor === null || cursor >= upTo) return false;
      const rows = await repo.read({ after: cursor, upTo, types: [...sub.types], prefixes: [], namespaces: null, limit: BATCH }, tx);
      for (const r of rows) await sub.handle(toDomainEvent(r), tx);
      const next = rows.length === BATCH ? rows[rows.length - 1]!.seq : upTo;
      await repo.moveCursor(tx, sub.name, next, iso(clock.now()));
      return next < upTo;
    });
  }

  async function runPass(): Promise<void> {
    head = await repo.head();
    for (const w of waiters) if (head > w.after) w.wake();
    const now = Date.now();
    for (const s of subscribers) {
      if (s.retryAt > now) continue;
      try {
        while (await deliver(s, head));
        s.failures = 0;
      } catch (err) {
        s.failures++;
        const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (s.failures - 1));
        s.retryAt = Date.now() + delay;
        log.error({ err, subscriber: s.sub.name, retryInMs: delay }, 'event subscriber failed; its batch will be delivered again');
      }
    }
  }

  /** Runs a pass now, or once more after the one running. */
  function wake(): void {
    if (!started) return;
    if (pass) {
      again = true;
      return;
    }
    pass = runPass()
      .catch((err: unknown) => log.error({ err }, 'event delivery pass failed'))
      .finally(() => {
        pass = null;
        if (again) {
          again = false;
          wake();
        }
      });
  }

  return {
    /** Records `event` on `tx`, the transaction that makes the change. */
    async emit<T extends EventType>(tx: AnyDb, event: NewEvent<T>): Promise<number> {
      // A payload of the wrong shape is a bug of the emitting feature: refuse it at the source.
      const data = EVENT_DATA[event.type].parse(event.data);
      const seq = await repo.append(tx, { at: iso(clock.now()), type: event.type, subject: event.subject, namespace: event.namespace, data: JSON.stringify(data) });
      // After the caller's commit, usually: the next poll catches it otherwise.
      setTimeout(wake, 0).unref();
      return seq;
    },

    /** Registers a durable subscriber; call before `start`. */
    subscribe(sub: Subscriber): void {
      if (started) throw new Error(`subscriber ${sub.name} registered after the event dispatcher started`);
      if (subscribers.some((s) => s.sub.name === sub.name)) throw new Error(`subscriber ${sub.name} registered twice`);
      subscribers.push({ sub, failures: 0, retryAt: 0 });
    },

    /**
     * One page of events after `after` that the caller may see. `next` moves past events the
     * filters hid, up to the head read before the page, so a later commit is never skipped.
     */
    async read(q: { after: number; types: EventType[] | null; prefixes: string[]; namespaces: readonly string[] | null; limit: number; waitMs?: number; signal?: AbortSignal }) {
      let upTo = await repo.head();
      if (upTo <= q.after && q.waitMs) {
        await waitForHead(q.after, q.waitMs, q.signal);
        upTo = await repo.head();
      }
      const rows = upTo > q.after ? await repo.read({ ...q, upTo }) : [];
      const next = rows.length === q.limit ? rows[rows.length - 1]!.seq : Math.max(q.after, upTo);
      return { items: rows.map(toDomainEvent), next };
    },

    head: () => repo.head(),
    cursor: (subscriber: string) => repo.cursor(subscriber),

    /** Starts delivery: cursors of new subscribers are created, then the log is polled. */
    async start(): Promise<void> {
      const now = await repo.head();
      for (const s of subscribers) await repo.ensureCursor(s.sub.name, s.sub.from === 'start' ? 0 : now, iso(clock.now()));
      started = true;
      timer = setInterval(wake, deps.settings.pollMs);
      timer.unref();
      wake();
    },

    async stop(): Promise<void> {
      started = false;
      if (timer) clearInterval(timer);
      for (const w of waiters) w.wake();
      await pass;
    },

    /** Delivers everything committed so far to every subscriber (tests, and shutdown paths). */
    async drain(): Promise<void> {
      while (pass) await pass;
      await runPass();
    },
  };

  function waitForHead(after: number, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const w = {
        after,
        wake: () => {
          clearTimeout(t);
          waiters.delete(w);
          signal?.removeEventListener('abort', w.wake);
          resolve();
        },
      };
      const t = setTimeout(w.wake, ms);
      waiters.add(w);
      signal?.addEventListener('abort', w.wake, { once: true });
      // Long polls wake on the delivery pass; make sure one runs even with no subscriber.
      if (!started) w.wake();
    });
  }
}

export type EventsService = ReturnType<typeof createEventsService>;
