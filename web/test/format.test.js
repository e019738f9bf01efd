import { describe, expect, it } from "vitest";
import {
  formatCost,
  formatDay,
  formatDuration,
  formatNanos,
  formatNumber,
  formatPercent,
  formatTokens,
  healthBadge,
  statusTone,
} from "../src/lib/format.ts";

describe("formatTokens", () => {
  it("keeps small counts exact and compacts large ones", () => {
    expect(formatTokens(0)).toBe("0");
    expect(formatTokens(9_999)).toBe("9,999");
    expect(formatTokens(10_000)).toBe("10K");
    expect(formatTokens(12_345)).toBe("12.3K");
    expect(formatTokens(4_560_000)).toBe("4.56M");
    expect(formatTokens(250_000_000)).toBe("250M");
    expect(formatTokens(3_000_000_000)).toBe("3B");
  });
  it("shows a dash for missing values", () => {
    expect(formatTokens(null)).toBe("—");
    expect(formatTokens(undefined)).toBe("—");
  });
});

describe("formatCost", () => {
  it("shows cents for a dollar or more", () => {
    expect(formatCost(1)).toBe("$1.00");
    expect(formatCost(1234.5)).toBe("$1,234.50");
  });
  it("keeps two significant digits for tiny amounts", () => {
    expect(formatCost(0.000042)).toBe("$0.000042");
    expect(formatCost(0.0001234)).toBe("$0.00012");
    expect(formatCost(0.05)).toBe("$0.05");
    expect(formatCost(0.25)).toBe("$0.25");
    expect(formatCost(0.5)).toBe("$0.50");
    expect(formatCost(0.012)).toBe("$0.012");
  });
  it("handles zero, null and negatives", () => {
    expect(formatCost(0)).toBe("$0.00");
    expect(formatCost(null)).toBe("—");
    expect(formatCost(-2)).toBe("-$2.00");
  });
  it("reads nanodollars", () => {
    expect(formatNanos(1_500_000_000)).toBe("$1.50");
    expect(formatNanos(null)).toBe("—");
  });
});

describe("other formats", () => {
  it("formats numbers, percentages and durations", () => {
    expect(formatNumber(1234567)).toBe("1,234,567");
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(0.1234)).toBe("12.3%");
    expect(formatPercent(0.0005)).toBe("<0.1%");
    expect(formatPercent(0.05)).toBe("5%");
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_300)).toBe("12.3 s");
    expect(formatDuration(185_000)).toBe("3m 5s");
  });
  it("formats series days", () => {
    expect(formatDay("2026-11-26")).toBe("Nov 26");
    expect(formatDay("2026-01-05")).toBe("Jan 5");
    expect(formatDay("garbage")).toBe("garbage");
  });
  it("maps every health status to a label and tone", () => {
    expect(healthBadge("healthy")).toEqual({ label: "Healthy", tone: "success" });
    expect(healthBadge("auth_invalid").tone).toBe("danger");
    expect(healthBadge("rate_limited").tone).toBe("warning");
    expect(healthBadge("something-new")).toEqual({ label: "Unknown", tone: "neutral" });
  });
  it("tones HTTP statuses", () => {
    expect(statusTone(200)).toBe("success");
    expect(statusTone(429)).toBe("warning");
    expect(statusTone(502)).toBe("danger");
  });
});

import { formatMicros, healthScore, keyHealthTags, pluginFailures, pluginStatus } from "../src/lib/format.ts";

describe("plugin metrics", () => {
  it("formats call times from microseconds", () => {
    expect(formatMicros(0)).toBe("0 µs");
    expect(formatMicros(999)).toBe("999 µs");
    expect(formatMicros(1000)).toBe("1 ms");
    expect(formatMicros(2_560)).toBe("2.56 ms");
    expect(formatMicros(12_340)).toBe("12.3 ms");
    expect(formatMicros(2_500_000)).toBe("2.5 s");
    expect(formatMicros(null)).toBe("—");
  });

  it("sums every kind of failure", () => {
    expect(pluginFailures({ calls: 9, errors: 1, traps: 2, timeouts: 3, out_of_memory: 4 })).toBe(10);
    expect(pluginFailures(null)).toBe(0);
  });

  it("tags a version serving, enabled or disabled with its reason", () => {
    expect(pluginStatus({ enabled: true, serving: ["openai"] }).label).toBe("serving");
    expect(pluginStatus({ enabled: true, serving: [] }).label).toBe("enabled");
    const off = pluginStatus({ enabled: false, serving: [], disabled_reason: "trapped 5 times" });
    expect(off).toMatchObject({ label: "disabled", tone: "warning", title: "trapped 5 times" });
  });
});

describe("upstream key health", () => {
  it("reads the score as a percentage with a tone", () => {
    expect(healthScore(1)).toEqual({ label: "100%", tone: "success" });
    expect(healthScore(0.8)).toEqual({ label: "80%", tone: "success" });
    expect(healthScore(0.5).tone).toBe("warning");
    expect(healthScore(0.49).tone).toBe("danger");
    expect(healthScore(undefined).label).toBe("—");
  });

  it("says when the scheduler skips the key", () => {
    expect(keyHealthTags({ in_rotation: false, cooldown_seconds: 12 })).toEqual([{ label: "cooling down 12s", tone: "warning" }]);
    expect(keyHealthTags({ in_rotation: false, cooldown_seconds: null })).toEqual([{ label: "out of rotation", tone: "danger" }]);
    expect(keyHealthTags({ in_rotation: true })).toEqual([]);
    expect(keyHealthTags(null)).toEqual([]);
  });
});
