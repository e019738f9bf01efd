// Budgets of teams and users as the console reads and writes them: the
// form's fields to the API's body, and a budget line's use for a meter.

/** The fields of the budget dialog, in order: [name, label, kind]. */
import type { Schema } from "./client.ts";

type BudgetInput = Schema<"BudgetInput">;
type BudgetLine = Schema<"BudgetLineView">;

export const BUDGET_FIELDS: [keyof BudgetInput & string, string, "usd" | "count" | "percent"][] = [
  ["cost_per_month_usd", "Monthly budget (USD)", "usd"],
  ["tokens_per_month", "Tokens / month", "count"],
  ["requests_per_day", "Requests / day", "count"],
  ["alert_percent", "Alert at (% of a limit)", "percent"],
];

/**
 * The API body from the dialog's form: an empty field is no limit; a
 * bad value throws in words.
 */
export function budgetInput(form: Pick<FormData, "get">): BudgetInput {
  const body: BudgetInput = {};
  for (const [name, label, kind] of BUDGET_FIELDS) {
    const raw = String(form.get(name) ?? "").trim();
    if (!raw) continue;
    const value = Number(raw);
    if (kind === "usd") {
      if (!Number.isFinite(value) || value < 0) throw new Error(`${label} must be an amount, 0 or more.`);
    } else if (kind === "percent") {
      if (!Number.isInteger(value) || value < 1 || value > 100) throw new Error(`${label} must be a whole number from 1 to 100.`);
    } else if (!Number.isInteger(value) || value < 0) {
      throw new Error(`${label} must be a whole number, 0 or more.`);
    }
    body[name] = value;
  }
  return body;
}

/** The line `limit` of a budget view, if set. */
export function budgetLine(budget: Schema<"BudgetView"> | null | undefined, limit: string): BudgetLine | null {
  return budget?.lines?.find((l: BudgetLine) => l.limit === limit) ?? null;
}

/** Used share of a line, 0 to 1 (more when overrun); null without a line. */
export function lineShare(line: BudgetLine | null | undefined): number | null {
  if (!line) return null;
  if (line.budget <= 0) return line.used > 0 ? 1 : 0;
  return line.used / line.budget;
}
