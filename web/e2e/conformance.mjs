// Browser test of conformance at upload (issue 15): a plugin version that
// drops Anthropic's cache reads is refused with the difference named; once
// forced through the API, the plugins table shows its failed result with
// every difference, beside a version that passed. `t` carries run.mjs's
// helpers and the running gateway.
import { readFileSync } from "node:fs";

/** The forced version is taken out again so later steps see the built-in. */
async function removeVersion(t, id) {
  await t.adminCall(t.gateway, "PUT", `/api/plugins/${id}`, { enabled: false });
  await t.adminCall(t.gateway, "DELETE", `/api/plugins/${id}`);
}

export async function conformanceSteps(t) {
  const { step, page, expect, go, shot } = t;
  const wrong = t.wasmFiles().find((f) => f.endsWith("plugin_anthropic_nocache.wasm"));
  if (!wrong) {
    t.skip("a version's conformance result is shown", "plugin_anthropic_nocache.wasm is not built (cargo test -p ai-proxy-tests builds it)");
    return;
  }
  await step("an upload that drops cache reads is refused, naming the difference", async () => {
    await go(page, "/providers", "Providers & Plugins");
    await page.getByTestId("plugin-file").setInputFiles(wrong);
    await page.getByText(/fails 3 of 13 conformance vectors/).waitFor({ timeout: 60_000 });
    await page.getByText(/usage\.cached_input_tokens: expected 8000, got 0/).first().waitFor();
    await shot(page, "plugin-conformance-refused-1280");
  }, 90_000);

  await step("a forced version shows its failed vectors; a checked one its pass", async () => {
    const form = new FormData();
    form.append("file", new Blob([readFileSync(wrong)]), "plugin.wasm");
    const auth = Buffer.from(`admin:${t.adminPassword}`).toString("base64");
    const response = await fetch(`${t.gateway.admin}/api/plugins?force=true`, {
      method: "POST",
      headers: { authorization: `Basic ${auth}` },
      body: form,
    });
    expect(response.status === 201, `forced upload -> ${response.status}: ${await response.clone().text()}`);
    const { id } = await response.json();
    try {
      await go(page, "/providers", "Providers & Plugins");
      const row = page.getByTestId("plugin-anthropic-0.2.0");
      const result = row.getByTestId("plugin-conformance");
      await result.getByText("conformance failed · forced").waitFor();
      await result.getByRole("button", { name: "3 failed vectors" }).click();
      const differences = result.getByTestId("conformance-differences");
      await differences.getByText("message (JSON): cache read and cache write").waitFor();
      await differences.getByText("usage.cached_input_tokens: expected 8000, got 0").first().waitFor();
      const passed = page.getByTestId("plugin-openai-0.2.0").getByTestId("plugin-conformance");
      await passed.getByText("conformance passed · 16 vectors").waitFor();
      await page.getByTestId("plugin-openai-0.1.0").getByTestId("plugin-conformance").getByText("not checked").waitFor();
      await row.scrollIntoViewIfNeeded();
      await shot(page, "plugin-conformance-1280");
    } finally {
      await removeVersion(t, id);
    }
  }, 90_000);
}
