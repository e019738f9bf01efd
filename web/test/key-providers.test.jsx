import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { RouteFields, routesInput } from "../src/pages/key-providers.tsx";

const form = (values) => ({
  get: (name) => (name in values ? values[name] : null),
  getAll: (name) => (name in values ? [].concat(values[name]) : []),
});

describe("routesInput", () => {
  it("sends one provider per row, in order, with ids as numbers and prefixes parsed", () => {
    const body = routesInput(
      form({
        route_row: ["3", "1"],
        route_provider_3: "1",
        route_pool_3: ["5", "6"],
        route_path_prefix_3: "",
        route_models_3: "",
        route_provider_1: "4",
        route_pool_1: "9",
        route_path_prefix_1: " deepseek ",
        route_models_1: "deepseek-, ds-\nx-",
      }),
    );
    expect(body).toEqual({
      providers: [
        { provider_id: 1, upstream_key_ids: [5, 6], path_prefix: null, model_prefixes: [] },
        { provider_id: 4, upstream_key_ids: [9], path_prefix: "deepseek", model_prefixes: ["deepseek-", "ds-", "x-"] },
      ],
    });
  });

  it("sends an empty list when every row was removed (a single-provider key again)", () => {
    expect(routesInput(form({}))).toEqual({ providers: [] });
  });
});

describe("RouteFields", () => {
  it("offers only the chosen provider's upstream keys, ticking the pool", () => {
    const html = renderToStaticMarkup(
      <RouteFields
        route={{ row: 0, provider_id: 2, upstream_key_ids: [12], path_prefix: "anthropic", model_prefixes: ["claude-"] }}
        providers={[
          { id: 1, name: "openai" },
          { id: 2, name: "anthropic" },
        ]}
        upstreamKeys={[
          { id: 11, provider_id: 1, name: "oa-key" },
          { id: 12, provider_id: 2, name: "an-key" },
        ]}
        onRemove={() => {}}
      />,
    );
    expect(html).toContain("an-key");
    expect(html).not.toContain("oa-key");
    expect(html).toMatch(/<input type="checkbox" name="route_pool_0"[^>]*checked=""[^>]*value="12"/);
    expect(html).toContain('value="anthropic"');
    expect(html).toContain('value="claude-"');
  });
});
