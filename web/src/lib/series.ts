// Daily series ({date, requests, errors, server_errors, tokens, cost_usd,
// latency_ms}) in words and totals: the text every chart carries for
// those who cannot see it, and the tiles beside a key's trends, computed
// from the same series so title, chart and tiles cover the same days.
import { formatCost, formatDay, formatDuration, formatNumber, formatTokens } from "./format.ts";
import type { Schema } from "./client.ts";

/** One day of a series; every figure may be missing. */
export type Day = Partial<Schema<"DayPoint">>;

/** Daily limits as a key shows them: a number or null (unlimited). */
type DailyLimits = { [key: string]: number | null | undefined };

/** Sums of a series. */
export interface Totals {
  requests: number;
  errors: number;
  server_errors: number;
  tokens: number;
  cost_usd: number;
  /** Milliseconds over all requests, for the mean. */
  duration: number;
  /** Mean over all requests; null without requests. */
  latency_ms: number | null;
}

/** One daily limit and today's use of it. */
export interface LimitUse {
  key: string;
  label: string;
  used: number;
  limit: number;
  ratio: number;
  text: string;
}

/** The ranges every trend offers, in days; the first is the default. */
export const RANGES = [7, 14, 30, 90];
export const DEFAULT_RANGE = RANGES[0];
const RANGE_KEY = "ai-proxy-range";

/** The range last chosen anywhere in the console (all trends share it). */
export function storedRange(storage = globalThis.localStorage) {
  const n = Number(storage?.getItem(RANGE_KEY));
  return RANGES.includes(n) ? n : DEFAULT_RANGE;
}

export function storeRange(days: number, storage = globalThis.localStorage) {
  if (RANGES.includes(days)) storage?.setItem(RANGE_KEY, String(days));
}

/** Sums over a series; the latency is the mean over all requests. */
export function totals(data: Day[] | null | undefined): Totals {
  const t: Totals = { requests: 0, errors: 0, server_errors: 0, tokens: 0, cost_usd: 0, duration: 0, latency_ms: null };
  for (const d of data ?? []) {
    t.requests += d.requests ?? 0;
    t.errors += d.errors ?? 0;
    t.server_errors += d.server_errors ?? 0;
    t.tokens += d.tokens ?? 0;
    t.cost_usd += d.cost_usd ?? 0;
    t.duration += (d.latency_ms ?? 0) * (d.requests ?? 0);
  }
  t.latency_ms = t.requests ? Math.round(t.duration / t.requests) : null;
  return t;
}

/**
 * One sentence about a series: "Last 7 days: 120 requests, 3 errors
 * (1 upstream), 45.2K tokens, $0.12; busiest Nov 26 with 80 requests."
 */
export function summarize(data: Day[], days: number): string {
  const t = totals(data);
  const span = `Last ${days} ${days === 1 ? "day" : "days"}`;
  if (!t.requests) return `${span}: no requests.`;
  const parts = [
    `${formatNumber(t.requests)} ${t.requests === 1 ? "request" : "requests"}`,
    `${formatNumber(t.errors)} ${t.errors === 1 ? "error" : "errors"}${t.errors ? ` (${formatNumber(t.server_errors)} upstream or gateway)` : ""}`,
    `${formatTokens(t.tokens)} tokens`,
    formatCost(t.cost_usd),
  ];
  if (t.latency_ms !== null) parts.push(`${formatDuration(t.latency_ms)} mean latency`);
  const busiest = data.reduce((a, b) => ((b.requests ?? 0) > (a.requests ?? 0) ? b : a));
  return `${span}: ${parts.join(", ")}; busiest ${formatDay(busiest.date)} with ${formatNumber(busiest.requests)}.`;
}

/**
 * Today's use of a client key against its daily limits: [{label, used,
 * limit, ratio, text}] for each daily limit that is set.
 */
export function limitUsage(today: Day | null | undefined, limits: DailyLimits | null | undefined): LimitUse[] {
  const rows: [string, string, number, (n: number) => string][] = [
    ["requests_per_day", "Requests today", today?.requests ?? 0, formatNumber],
    ["tokens_per_day", "Tokens today", today?.tokens ?? 0, formatTokens],
    ["cost_per_day_usd", "Cost today", today?.cost_usd ?? 0, formatCost],
  ];
  return rows
    .flatMap(([key, label, used, fmt]) => {
      const limit = limits?.[key];
      if (limit === null || limit === undefined) return [];
      const ratio = limit > 0 ? Math.min(1, used / limit) : 1;
      return [{ key, label, used, limit, ratio, text: `${fmt(used)} of ${fmt(limit)}` }];
    });
}
