import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { GrantChoices, grantsInput } from "../src/pages/user-grants.tsx";

const form = (values) => ({
  get: (name) => (name in values ? values[name] : null),
  getAll: (name) => (name in values ? [].concat(values[name]) : []),
});

describe("grantsInput", () => {
  it("sends the whole grant: ids as numbers and every default limit", () => {
    const body = grantsInput(form({ grant_provider: ["2"], grant_key: ["5", "7"], limit_requests_per_day: "100", limit_cost_per_day_usd: "1.5" }));
    expect(body).toEqual({
      provider_ids: [2],
      upstream_key_ids: [5, 7],
      default_limits: {
        requests_per_second: null,
        requests_per_minute: null,
        requests_per_day: 100,
        tokens_per_day: null,
        cost_per_day_usd: 1.5,
      },
    });
  });

  it("sends empty lists when nothing is ticked (the account may pool nothing)", () => {
    const body = grantsInput(form({}));
    expect(body.provider_ids).toEqual([]);
    expect(body.upstream_key_ids).toEqual([]);
  });
});

describe("GrantChoices", () => {
  it("ticks what is granted and lists each provider's keys under it", () => {
    const html = renderToStaticMarkup(
      <GrantChoices
        grant={{ provider_ids: [1], upstream_key_ids: [12] }}
        providers={[
          { id: 1, name: "openai" },
          { id: 2, name: "anthropic" },
        ]}
        upstreamKeys={[
          { id: 11, provider_id: 1, name: "oa-1" },
          { id: 12, provider_id: 2, name: "an-1" },
          { id: 13, provider_id: 2, name: "an-2" },
        ]}
      />,
    );
    expect(html.match(/name="grant_provider"/g)).toHaveLength(2);
    expect(html.match(/name="grant_key"/g)).toHaveLength(3);
    const ticked = (name) =>
      (html.match(/<input[^>]*>/g) ?? [])
        .filter((tag) => tag.includes(`name="${name}"`) && tag.includes('checked=""'))
        .map((tag) => tag.match(/value="(\d+)"/)[1]);
    expect(ticked("grant_provider")).toEqual(["1"]);
    expect(ticked("grant_key")).toEqual(["12"]);
    expect(html.indexOf("an-1")).toBeGreaterThan(html.indexOf("anthropic"));
  });
});
