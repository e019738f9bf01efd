// Log filters ↔ the query string of GET /api/logs/traces (and of the
// console's own URL, so a filtered view can be bookmarked and reloaded).

export const EMPTY_FILTERS = Object.freeze({
  q: "",
  id: "",
  model: "",
  status_code: "",
  error_class: "",
  provider: "",
  provider_key: "",
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
export function localToIso(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** A status class such as "5xx" (every 500-599), as the API's `status_class`. */
const STATUS_CLASS = /^[1-5]xx$/i;

/** Most model prefixes one filter may list (MAX_MODEL_PREFIXES of the API). */
export const MAX_MODEL_PREFIXES = 20;

/** Checks filters; returns a message for the first bad one, or null. */
export function filterProblem(filters) {
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

/**
 * The API query parameters (`traces_list`) for filters and a page; empty
 * filters are left out. Numbers stay numbers, as the API declares them.
 */
export function traceParams(filters, page = 1, pageSize = DEFAULT_PAGE_SIZE) {
  const params = { page: Math.max(1, page), page_size: pageSize };
  for (const key of ["q", "id", "provider", "provider_key", "client_key_id", "error_class"]) {
    const value = String(filters[key] ?? "").trim();
    if (value) params[key] = value;
  }
  // "gpt-4 claude" or "gpt-4, claude*": prefixes, comma-separated for the API.
  const models = parseList(filters.model);
  if (models.length) params.model = models.join(",");
  const status = String(filters.status_code ?? "").trim();
  if (STATUS_CLASS.test(status)) params.status_class = status.toLowerCase();
  else if (status) params.status_code = status;
  for (const key of ["from", "to"]) {
    const iso = localToIso(filters[key]);
    if (iso) params[key] = iso;
  }
  return params;
}

/** traceParams as a query string. */
export function traceQuery(filters, page = 1, pageSize = DEFAULT_PAGE_SIZE) {
  const params = traceParams(filters, page, pageSize);
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

/** Filters, page and page size as the console URL's search string. */
export function filtersToSearch(filters, page, pageSize) {
  const params = new URLSearchParams();
  for (const key of Object.keys(EMPTY_FILTERS)) {
    const value = String(filters[key] ?? "").trim();
    if (value) params.set(key, value);
  }
  if (page > 1) params.set("page", String(page));
  if (pageSize !== DEFAULT_PAGE_SIZE) params.set("page_size", String(pageSize));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** The inverse of filtersToSearch; unknown or bad values fall back to defaults. */
export function searchToFilters(search) {
  const params = new URLSearchParams(search);
  const filters = { ...EMPTY_FILTERS };
  for (const key of Object.keys(EMPTY_FILTERS)) filters[key] = params.get(key) ?? "";
  const page = Math.max(1, Number.parseInt(params.get("page") ?? "1", 10) || 1);
  const size = Number.parseInt(params.get("page_size") ?? "", 10);
  const pageSize = PAGE_SIZES.includes(size) ? size : DEFAULT_PAGE_SIZE;
  return { filters, page, pageSize };
}

/** "gpt-4o, claude-*\n gemini" → ["gpt-4o", "claude-*", "gemini"]. */
export function parseList(text) {
  return [...new Set(String(text ?? "").split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** Page count for a total, at least one. */
export function pageCount(total, pageSize) {
  return Math.max(1, Math.ceil((total ?? 0) / pageSize));
}
