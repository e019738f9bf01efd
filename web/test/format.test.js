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
} from "../src/lib/format.js";

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
