import { describe, expect, it } from "vitest";
import { budgetInput, budgetLine, lineShare } from "../src/lib/budget.ts";

function form(values) {
  const f = new FormData();
  for (const [k, v] of Object.entries(values)) f.set(k, v);
  return f;
}

describe("budget form", () => {
  it("sends only the limits filled in", () => {
    expect(budgetInput(form({ cost_per_month_usd: "500", tokens_per_month: "", alert_percent: "80" }))).toEqual({
      cost_per_month_usd: 500,
      alert_percent: 80,
    });
  });

  it("refuses bad values in words, at the bounds", () => {
    expect(() => budgetInput(form({ cost_per_month_usd: "-1" }))).toThrow("Monthly budget (USD) must be an amount, 0 or more.");
    expect(() => budgetInput(form({ tokens_per_month: "1.5" }))).toThrow("whole number");
    expect(() => budgetInput(form({ alert_percent: "0" }))).toThrow("from 1 to 100");
    expect(() => budgetInput(form({ alert_percent: "101" }))).toThrow("from 1 to 100");
    expect(budgetInput(form({ alert_percent: "100", requests_per_day: "0" }))).toEqual({ alert_percent: 100, requests_per_day: 0 });
  });
});

describe("budget lines", () => {
  const budget = { lines: [{ limit: "team_cost_per_month", used: 250, budget: 1000 }] };
  it("finds a line and its share", () => {
    expect(lineShare(budgetLine(budget, "team_cost_per_month"))).toBe(0.25);
    expect(budgetLine(budget, "team_tokens_per_month")).toBeNull();
    expect(lineShare(null)).toBeNull();
    expect(lineShare({ used: 3, budget: 0 })).toBe(1);
  });
});
