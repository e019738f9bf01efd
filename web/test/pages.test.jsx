import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { LimitFields } from "../src/components/limit-fields.tsx";
import { CLIENT_LIMITS, KEY_LIMITS } from "../src/lib/limits.ts";
import { tokenCommand } from "../src/pages/oauth-clients.tsx";
import { pluginLimitsInput } from "../src/pages/plugins.tsx";
import { providerInput, versionsOf } from "../src/pages/providers.tsx";
import { keyInput } from "../src/pages/upstream-keys.tsx";

const form = (values) => ({ get: (name) => (name in values ? values[name] : null) });

describe("pluginLimitsInput", () => {
  it("clears an emptied limit with null and keeps the ceilings exactly", () => {
    expect(pluginLimitsInput(form({ call_timeout_ms: "", memory_mib: "" }))).toEqual({ call_timeout_ms: null, memory_mib: null });
    expect(pluginLimitsInput(form({ call_timeout_ms: "60000", memory_mib: "4096" }))).toEqual({ call_timeout_ms: 60000, memory_mib: 4096 });
    expect(pluginLimitsInput(form({ call_timeout_ms: "1", memory_mib: "1" }))).toEqual({ call_timeout_ms: 1, memory_mib: 1 });
  });

  it("refuses zero, fractions and one past a ceiling in words", () => {
    expect(() => pluginLimitsInput(form({ call_timeout_ms: "60001" }))).toThrow("Call timeout must be a whole number from 1 to 60,000.");
    expect(() => pluginLimitsInput(form({ memory_mib: "4097" }))).toThrow("Memory must be a whole number from 1 to 4,096.");
    expect(() => pluginLimitsInput(form({ memory_mib: "0" }))).toThrow("Memory");
    expect(() => pluginLimitsInput(form({ call_timeout_ms: "1.5" }))).toThrow("Call timeout");
  });
});

describe("providerInput and the version binding", () => {
  const openai = { id: 1, name: "openai", plugin: "openai", plugin_binding: "latest" };

  it("sends the binding only when it changes", () => {
    expect(providerInput(form({ name: "openai", plugin: "openai", plugin_version: "latest" }), openai)).toEqual({});
    expect(providerInput(form({ name: "openai", plugin: "openai", plugin_version: "0.1.0" }), openai)).toEqual({ plugin_version: "0.1.0" });
    const pinned = { ...openai, plugin_binding: "0.1.0" };
    expect(providerInput(form({ name: "openai", plugin: "openai", plugin_version: "latest" }), pinned)).toEqual({ plugin_version: "latest" });
  });

  it("sends the version with a changed plugin, and a pin on a new provider", () => {
    expect(providerInput(form({ name: "openai", plugin: "other", plugin_version: "latest" }), openai)).toEqual({ plugin: "other", plugin_version: "latest" });
    expect(providerInput(form({ name: "p", plugin: "openai", plugin_version: "latest" }), null)).toEqual({ name: "p", plugin: "openai" });
    expect(providerInput(form({ name: "p", plugin: "openai", plugin_version: "0.2.0" }), null)).toEqual({ name: "p", plugin: "openai", plugin_version: "0.2.0" });
  });

  it("sends no binding when the form has no version field (plugins not listed)", () => {
    expect(providerInput(form({ name: "openai", plugin: "openai" }), openai)).toEqual({});
  });

  it("offers a plugin's versions newest first", () => {
    const plugins = [
      { id: 1, name: "openai", version: "0.1.0", enabled: true },
      { id: 2, name: "anthropic", version: "0.1.0", enabled: true },
      { id: 4, name: "openai", version: "0.2.0", enabled: false },
    ];
    expect(versionsOf(plugins, "openai")).toEqual([
      { version: "0.2.0", enabled: false },
      { version: "0.1.0", enabled: true },
    ]);
    expect(versionsOf(null, "openai")).toEqual([]);
  });
});

describe("LimitFields", () => {
  it("shows set limits as values and the rest as unlimited", () => {
    const html = renderToStaticMarkup(<LimitFields specs={CLIENT_LIMITS} limits={{ requests_per_minute: 1, cost_per_day_usd: 2.5 }} />);
    expect(html).toContain('name="limit_requests_per_minute"');
    expect(html).toMatch(/name="limit_requests_per_minute"[^>]*value="1"/);
    expect(html).toMatch(/name="limit_cost_per_day_usd"[^>]*step="0.01"[^>]*value="2.5"/);
    expect(html.match(/placeholder="unlimited"/g)).toHaveLength(5);
  });

  it("offers only an upstream key's two limits", () => {
    const html = renderToStaticMarkup(<LimitFields specs={KEY_LIMITS} limits={null} />);
    expect(html.match(/<input/g)).toHaveLength(2);
  });
});

describe("tokenCommand", () => {
  it("is the client-credentials request on the proxy port", () => {
    expect(tokenCommand()).toBe("curl -u CLIENT_ID:SECRET http://<gateway>:8080/oauth/token -d grant_type=client_credentials");
    expect(tokenCommand("aipc-1", "aips-2", "gw.local")).toContain("-u aipc-1:aips-2 http://gw.local:8080/oauth/token");
  });
});

describe("keyInput of an upstream key", () => {
  const base = { name: "k", weight: "1", expires_at: "", provider_id: "2" };
  it("creates an OAuth key without a secret", () => {
    const body = keyInput(form({ ...base, auth_type: "oauth", secret: "ignored" }), null);
    expect(body.auth_type).toBe("oauth");
    expect(body).not.toHaveProperty("secret");
    expect(body.provider_id).toBe(2);
  });
  it("still requires a secret for an API key and leaves auth_type to the default", () => {
    expect(() => keyInput(form({ ...base, auth_type: "api_key" }), null)).toThrow("Enter the upstream secret.");
    const body = keyInput(form({ ...base, secret: "sk-1" }), null);
    expect(body.secret).toBe("sk-1");
    expect(body).not.toHaveProperty("auth_type");
  });
  it("never sends a secret or auth_type when editing an OAuth key", () => {
    const body = keyInput(form({ ...base, secret: "" }), { id: 3, oauth: { state: "connected" } });
    expect(body).not.toHaveProperty("secret");
    expect(body).not.toHaveProperty("auth_type");
    expect(body).not.toHaveProperty("provider_id");
  });
});
