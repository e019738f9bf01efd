// Log filters ↔ the query string of GET /api/logs/traces (and of the
// console's own URL, so a filtered view can be bookmarked and reloaded).
// Both say `upstream_key`; bookmarks from before issue 14 said `provider_key`
// and are still read.

import type { Options } from "./client.ts";
import type { operations } from "./api-schema";

/** The log filters as the form and the console's URL hold them: text, "" when unset. */
export interface Filters {
  q: string;
  id: string;
  model: string;
  status_code: string;
  error_class: string;
  provider: string;
  upstream_key: string;
  client_key_id: string;
  from: string;
  to: string;
}

/** The query of `traces_list`. */
export type TraceQuery = NonNullable<Options<operations["traces_list"]>["query"]>;

export const EMPTY_FILTERS: Readonly<Filters> = Object.freeze({
  q: "",
  id: "",
  model: "",
  status_code: "",
  error_class: "",
  provider: "",
  upstream_key: "",
  client_key_id: "",
  from: "",
  to: "",
});

export const PAGE_SIZES = [25, 50, 100, 200];
export const DEFAULT_PAGE_SIZE = 50;

/**
 * A `datetime-local` value ("2026-11-26T17:45") read in the browser's
 * time zone, as the ISO instant the API expects; "" when empty or invalid.
 */
export function localToIso(value: string | null | undefined): string {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** A status class such as "5xx" (every 500-599), as the API's `status_class`. */
const STATUS_CLASS = /^[1-5]xx$/i;

/** Most model prefixes one filter may list (MAX_MODEL_PREFIXES of the API). */
export const MAX_MODEL_PREFIXES = 20;

/** Checks filters; returns a message for the first bad one, or null. */
export function filterProblem(filters: Partial<Filters>): string | null {
  const status = String(filters.status_code ?? "").trim();
  if (status && !/^[1-5]\d\d$/.test(status) && !STATUS_CLASS.test(status)) {
    return "Status must be an HTTP code such as 429, or a class such as 4xx or 5xx.";
  }
  const trace = String(filters.id ?? "").trim();
  if (trace && !/^\d{1,18}$/.test(trace)) return "Trace id must be a number, as in the title of a trace.";
  if (parseList(String(filters.model ?? "").replaceAll(",", " ")).length > MAX_MODEL_PREFIXES) {
    return `List at most ${MAX_MODEL_PREFIXES} models.`;
  }
  const id = String(filters.client_key_id ?? "").trim();
  if (id && !/^\d+$/.test(id)) return "Client key must be chosen from the list.";
  if (filters.from && !localToIso(filters.from)) return "The start time is not a valid time.";
  if (filters.to && !localToIso(filters.to)) return "The end time is not a valid time.";
  if (filters.from && filters.to && localToIso(filters.from) >= localToIso(filters.to)) {
    return "The start time must be before the end time.";
  }
  return null;
}

/** Earlier names of the console's URL parameters, still read from bookmarks. */
const MOVED_PARAMS: Partial<Record<keyof Filters, string>> = { upstream_key: "provider_key" };

/**
 * The API query parameters (`traces_list`) for filters and a page; empty
 * filters are left out.
 */
export function traceParams(filters: Filters, page = 1, pageSize = DEFAULT_PAGE_SIZE): TraceQuery {
  // Ids and the status stay the digits typed: a trace id may pass 2^53, which
  // a JS number cannot hold exactly, and the query string carries text anyway.
  const params: Record<string, string | number> = { page: Math.max(1, page), page_size: pageSize };
  for (const key of ["q", "id", "provider", "upstream_key", "client_key_id", "error_class"] as const) {
    const value = String(filters[key] ?? "").trim();
    if (value) params[key] = value;
  }
  // "gpt-4 claude" or "gpt-4, claude*": prefixes, comma-separated for the API.
  const models = parseList(filters.model);
  if (models.length) params.model = models.join(",");
  const status = String(filters.status_code ?? "").trim();
  if (STATUS_CLASS.test(status)) params.status_class = status.toLowerCase();
  else if (status) params.status_code = status;
  for (const key of ["from", "to"] as const) {
    const iso = localToIso(filters[key]);
    if (iso) params[key] = iso;
  }
  return params as TraceQuery;
}

/** traceParams as a query string. */
export function traceQuery(filters: Filters, page = 1, pageSize = DEFAULT_PAGE_SIZE): string {
  const params = traceParams(filters, page, pageSize);
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

/** Filters, page and page size as the console URL's search string. */
const FILTER_KEYS = Object.keys(EMPTY_FILTERS) as (keyof Filters)[];

export function filtersToSearch(filters: Filters, page: number, pageSize: number): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = String(filters[key] ?? "").trim();
    if (value) params.set(key, value);
  }
  if (page > 1) params.set("page", String(page));
  if (pageSize !== DEFAULT_PAGE_SIZE) params.set("page_size", String(pageSize));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** The inverse of filtersToSearch; unknown or bad values fall back to defaults. */
export function searchToFilters(search: string): { filters: Filters; page: number; pageSize: number } {
  const params = new URLSearchParams(search);
  const filters: Filters = { ...EMPTY_FILTERS };
  for (const key of FILTER_KEYS) {
    const moved = MOVED_PARAMS[key];
    filters[key] = params.get(key) ?? (moved ? params.get(moved) : null) ?? "";
  }
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const size = Number.parseInt(params.get("page_size") ?? "", 10);
  const pageSize = PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE;
  return { filters, page, pageSize };
}

/** "gpt-4o, claude-*\n gemini" → ["gpt-4o", "claude-*", "gemini"]. */
export function parseList(text: FormDataEntryValue | null | undefined): string[] {
  return [...new Set(String(text ?? "").split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** Page count for a total, at least one. */
export function pageCount(total: number | null | undefined, pageSize: number): number {
  return Math.max(1, Math.ceil((total ?? 0) / pageSize));
}
