// How numbers, money, tokens and times read everywhere in the console.
import type { Tone } from "../components/ui/badge.tsx";
import type { Schema } from "./client.ts";

/** A tag: its words and its badge colour. */
export interface Tag {
  label: string;
  tone: Tone;
  title?: string;
}

const DASH = "—";

/** 1234 → "1,234". */
export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return DASH;
  return Math.round(n).toLocaleString("en-US");
}

/** Token counts, compact past ten thousand: 999 → "999", 12_345 → "12.3K", 4_560_000 → "4.56M". */
export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return DASH;
  const abs = Math.abs(n);
  if (abs < 10_000) return formatNumber(n);
  const [div, unit] = abs >= 1e9 ? [1e9, "B"] : abs >= 1e6 ? [1e6, "M"] : [1e3, "K"];
  const v = n / div;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${trimZeros(v.toFixed(digits))}${unit}`;
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/**
 * US dollars. Cents for amounts of a dollar or more; small amounts keep
 * two significant digits so a request's $0.000042 does not read as $0.00.
 */
export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || Number.isNaN(usd)) return DASH;
  if (usd === 0) return "$0.00";
  const abs = Math.abs(usd);
  const sign = usd < 0 ? "-" : "";
  if (abs >= 1) {
    return `${sign}$${abs.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  }
  if (abs >= 0.1) return `${sign}$${abs.toFixed(2)}`;
  if (abs >= 0.01) return `${sign}$${abs.toFixed(3).replace(/0$/, "")}`;
  const digits = Math.min(10, 1 - Math.floor(Math.log10(abs)));
  return `${sign}$${trimZeros(abs.toFixed(digits))}`;
}

/** A cost in nanodollars (the API's exact unit). */
export function formatNanos(nanos: number | null | undefined): string {
  return nanos === null || nanos === undefined ? DASH : formatCost(nanos / 1e9);
}

/** 0.1234 → "12.3%". */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || Number.isNaN(ratio)) return DASH;
  const p = ratio * 100;
  if (p === 0) return "0%";
  if (p < 0.1) return "<0.1%";
  return `${trimZeros(p.toFixed(p >= 10 ? 1 : 2))}%`;
}

/** 850 → "850 ms", 12_300 → "12.3 s", 185_000 → "3m 5s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${trimZeros((ms / 1000).toFixed(1))} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An ISO timestamp in local time: "2026-11-26 17:45:01". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return DASH;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A series' "YYYY-MM-DD" day as "Nov 26". */
export function formatDay(day: string | null | undefined): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? "");
  if (!m) return day ?? DASH;
  return `${MONTHS[Number(m[2]) - 1]} ${Number(m[3])}`;
}

/** Health status of an upstream key: its label and a badge tone. */
export function healthBadge(status: string | null | undefined): Tag {
  switch (status) {
    case "healthy":
      return { label: "Healthy", tone: "success" };
    case "rate_limited":
      return { label: "Rate limited", tone: "warning" };
    case "quota_exhausted":
      return { label: "Quota exhausted", tone: "warning" };
    case "auth_invalid":
      return { label: "Invalid key", tone: "danger" };
    case "server_error":
      return { label: "Server error", tone: "danger" };
    case "network":
      return { label: "Unreachable", tone: "danger" };
    default:
      return { label: "Unknown", tone: "neutral" };
  }
}

/** Badge tone of an HTTP status code. */
export function statusTone(code: number): Tone {
  if (code >= 500) return "danger";
  if (code >= 400) return "warning";
  if (code >= 200 && code < 300) return "success";
  return "neutral";
}

/** A call time in microseconds: 850 → "850 µs", 12_300 → "12.3 ms", 2_500_000 → "2.5 s". */
export function formatMicros(us: number | null | undefined): string {
  if (us === null || us === undefined || Number.isNaN(us)) return DASH;
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${trimZeros((us / 1000).toFixed(us < 10_000 ? 2 : 1))} ms`;
  return formatDuration(us / 1000);
}

/**
 * The state of a plugin version as one tag: serving (some provider runs it),
 * disabled (with the reason as a title), or enabled but idle.
 */
export function pluginStatus(p: Pick<Schema<"PluginView">, "enabled" | "disabled_reason" | "serving">): Tag {
  if (!p.enabled) return { label: "disabled", tone: "warning", title: p.disabled_reason || "Disabled by an operator." };
  if (p.serving?.length) return { label: "serving", tone: "success", title: `Serving ${p.serving.join(", ")}` };
  return { label: "enabled", tone: "neutral", title: "Enabled; no provider runs it now." };
}

/** Failed calls of a plugin version: errors, traps, timeouts and out-of-memory together. */
export function pluginFailures(m: Partial<Schema<"MetricsView">> | null | undefined): number {
  if (!m) return 0;
  return (m.errors ?? 0) + (m.traps ?? 0) + (m.timeouts ?? 0) + (m.out_of_memory ?? 0);
}

/**
 * Tags for an upstream key's live health: score as a percentage, and
 * "cooling down Ns" or "out of rotation" when the scheduler skips it.
 */
export function keyHealthTags(health: Partial<Schema<"KeyHealthView">> | null | undefined): Tag[] {
  if (!health) return [];
  const tags: Tag[] = [];
  if (health.cooldown_seconds) tags.push({ label: `cooling down ${health.cooldown_seconds}s`, tone: "warning" });
  else if (health.in_rotation === false) tags.push({ label: "out of rotation", tone: "danger" });
  return tags;
}

/** A health score 0–1 as "87%" with a tone: ≥ 0.8 good, ≥ 0.5 fair, else poor. */
export function healthScore(score: number | null | undefined): Tag {
  if (score === null || score === undefined || Number.isNaN(score)) return { label: DASH, tone: "neutral" };
  const tone = score >= 0.8 ? "success" : score >= 0.5 ? "warning" : "danger";
  return { label: `${Math.round(score * 100)}%`, tone };
}

/** How long ago an ISO time was: "just now", "42 s ago", "5 min ago", "3 h ago", "2 days ago". */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  const t = new Date(iso ?? "").getTime();
  if (Number.isNaN(t)) return DASH;
  const s = Math.round((now - t) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const d = Math.floor(s / 86_400);
  return `${d} ${d === 1 ? "day" : "days"} ago`;
}

/**
 * The browser's time zone as the console's times are shown in it:
 * "UTC+01:00 (Europe/Paris)", or "UTC" — said next to every list of
 * times, since the dashboard counts per UTC day.
 */
export function timeZoneLabel(date = new Date(), zone: string | undefined = Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  const offset = minutes === 0 ? "UTC" : `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return zone && zone !== "UTC" && zone !== "Etc/UTC" ? `${offset} (${zone})` : offset;
}
