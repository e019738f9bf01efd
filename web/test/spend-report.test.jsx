import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { SpendReport, userBudgetWords } from "../src/pages/spend-report.tsx";

const spend = (requests, cost_usd) => ({ requests, tokens: requests * 10, cost_nanos: cost_usd * 1e9, cost_usd });

describe("SpendReport", () => {
  it("lists each user with its monthly budget beside and each provider", () => {
    const html = renderToStaticMarkup(
      <SpendReport
        report={{
          period: "2026-12",
          teams: [],
          keys: [],
          users: [
            {
              id: 2,
              name: "ana",
              spend: spend(3, 1.5),
              budget: { lines: [{ limit: "user_cost_per_month", period: "2026-12", used: 1_500_000_000, budget: 5_000_000_000 }] },
            },
            { id: 3, name: "bo", spend: spend(1, 0.25), budget: { lines: [] } },
          ],
          providers: [{ id: 1, name: "openai", spend: spend(4, 1.75) }],
        }}
      />,
    );
    expect(html).toContain("Spend in 2026-12");
    expect(html).toContain('aria-label="By user"');
    expect(html).toContain('aria-label="By provider"');
    expect(html).toContain("ana");
    expect(html).toContain("openai");
    expect(html).toContain("no monthly budget");
    expect(html).toContain(userBudgetWords({ budget: { lines: [{ limit: "user_cost_per_month", used: 1_500_000_000, budget: 5_000_000_000 }] } }));
  });

  it("renders nothing when the month has no user and no provider", () => {
    expect(renderToStaticMarkup(<SpendReport report={{ period: "2026-12", users: [], providers: [] }} />)).toBe("");
    expect(renderToStaticMarkup(<SpendReport report={undefined} />)).toBe("");
  });

  it("reads only the user's own monthly cost line", () => {
    expect(userBudgetWords({ budget: { lines: [{ limit: "user_requests_per_day", used: 1, budget: 2 }] } })).toBe("no monthly budget");
    expect(userBudgetWords({ budget: { lines: [{ limit: "user_cost_per_month", used: 0, budget: 2_000_000_000 }] } })).toMatch(/\$2\.00$/);
  });
});
