// Limits of client and upstream keys ↔ form fields, and how they read in
// a table. The API takes a `limits` object that replaces every limit; a
// limit left out or null is unlimited, so an empty form field means
// "no limit", never "unchanged".

import type { Schema } from "./client.ts";

/** One limit as a form field and a table phrase. */
export interface LimitSpec<K extends string = string> {
  key: K;
  label: string;
  unit: string;
  /** An amount in USD, not a count. */
  money?: boolean;
}

/** Limits as the API shows them: a number or null (unlimited) per limit. */
type Limits = { [key: string]: number | null | undefined };

/** The limits a client key can carry, in the order the form shows them. */
export const CLIENT_LIMITS: LimitSpec<keyof Schema<"ClientLimitsInput">>[] = [
  { key: "requests_per_second", label: "Requests / second", unit: "/s" },
  { key: "requests_per_minute", label: "Requests / minute", unit: "/min" },
  { key: "requests_per_day", label: "Requests / day", unit: "/day" },
  { key: "tokens_per_day", label: "Tokens / day", unit: " tokens/day" },
  { key: "cost_per_day_usd", label: "Cost / day (USD)", unit: "/day", money: true },
];

/** The limits an upstream key can carry. */
export const KEY_LIMITS: LimitSpec<keyof Schema<"KeyLimitsInput">>[] = [
  { key: "requests_per_second", label: "Requests / second", unit: "/s" },
  { key: "tokens_per_day", label: "Tokens / day", unit: " tokens/day" },
];

/** The API's ceiling for counted limits. */
export const MAX_COUNT = 1e15;
/** The API's ceiling for a daily cost in USD. */
export const MAX_USD = 1e9;

/** Form field name of a limit, e.g. "limit_requests_per_minute". */
export const fieldName = (key: string): string => `limit_${key}`;

/**
 * Reads the limit fields of a form (anything with `get`) into the API's
 * `limits` object: every limit present, an empty field as null. Throws an
 * Error with a sentence when a value is not allowed.
 */
export function limitsFromForm<K extends string>(form: Pick<FormData, "get">, specs: LimitSpec<K>[]): Record<K, number | null> {
  const limits = {} as Record<K, number | null>;
  for (const { key, label, money } of specs) {
    const raw = String(form.get(fieldName(key)) ?? "").trim();
    if (!raw) {
      limits[key] = null;
      continue;
    }
    const n = Number(raw);
    if (money) {
      if (!Number.isFinite(n) || n < 0 || n > MAX_USD) throw new Error(`${label} must be an amount from 0 to ${MAX_USD.toLocaleString("en-US")}.`);
    } else if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT) {
      throw new Error(`${label} must be a whole number, 0 or more.`);
    }
    limits[key] = n;
  }
  return limits;
}

/** A limit's value as the form field shows it: "" for unlimited. */
export function limitFieldValue(limits: Limits | null | undefined, key: string): string {
  const v = limits?.[key];
  return v === null || v === undefined ? "" : String(v);
}

/** Whether any limit is set. */
export function hasLimits(limits: Limits | null | undefined): boolean {
  return Object.values(limits ?? {}).some((v) => v !== null && v !== undefined);
}

function compact(n: number): string {
  const abs = Math.abs(n);
  if (abs < 10_000) return n.toLocaleString("en-US");
  const [div, unit] = abs >= 1e9 ? [1e9, "B"] : abs >= 1e6 ? [1e6, "M"] : [1e3, "K"];
  return `${Number((n / div).toFixed(abs / div >= 100 ? 0 : 1))}${unit}`;
}

/** The set limits as short phrases: ["1/min", "10K tokens/day", "$5/day"]. */
export function describeLimits(limits: Limits | null | undefined, specs: LimitSpec[] = CLIENT_LIMITS): string[] {
  const out: string[] = [];
  for (const { key, unit, money } of specs) {
    const v = limits?.[key];
    if (v === null || v === undefined) continue;
    out.push(money ? `$${Number.isInteger(v) ? v : v.toFixed(2)}${unit}` : `${compact(v)}${unit}`);
  }
  return out;
}

/** Scheduling strategies of a client key's pool, with words for each. */
export const STRATEGIES = [
  { value: "round_robin", label: "Round robin", hint: "Takes the healthy keys of the pool in turn." },
  { value: "weighted", label: "Weighted", hint: "Shares traffic by each upstream key's weight." },
  { value: "best_health", label: "Best health", hint: "Prefers the key with the best health score." },
];

export function strategyLabel(value: string | null | undefined): string {
  return STRATEGIES.find((s) => s.value === value)?.label ?? value ?? "Round robin";
}
