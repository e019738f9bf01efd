// Browser test of rolling a plugin version out (issue 15): the "Rollout"
// card on the Providers page puts a version that miscounts in shadow, shows
// the disagreements live traffic produced with both verdicts and the
// totals, then canary, promote and roll back, each step visible in the
// card and recorded in the audit log. `t` carries run.mjs's helpers, the
// running gateway and the wasm files the build made.
import { readFileSync } from "node:fs";
import { ADMIN_PASSWORD } from "./harness.mjs";

/** Requests sent through the shadowed provider. */
const SHADOWED_REQUESTS = 3;

export async function rolloutSteps(t) {
  const { step, page, gateway, expect, until, go, shot, adminCall, clientKey, wasmFiles } = t;
  const wasm = wasmFiles.find((f) => f.endsWith("plugin_openai_miscount.wasm"));
  const card = () => page.getByTestId("plugin-rollout");
  const stage = () => card().getByTestId("rollout-stage");

  await step("rollout: a version that miscounts runs in shadow and its disagreements are listed", async () => {
    expect(wasm, "no plugin_openai_miscount.wasm among the built plugins");
    // The fixture miscounts on purpose: it fails its vectors, so it is forced in.
    const uploaded = await fetch(`${gateway.admin}/api/plugins?force=true`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`, "content-type": "application/wasm" },
      body: readFileSync(wasm),
    });
    expect(uploaded.status === 201, `uploading the candidate answered ${uploaded.status}`);
    await go(page, "/providers", "Providers & Plugins");
    await card().getByLabel("Provider").selectOption({ label: "openai" });
    await card().getByLabel("Candidate version").selectOption({ label: "0.3.0" });
    await card().getByLabel("Shadow sample (%)").fill("0");
    await card().getByRole("button", { name: "Shadow" }).click();
    await page.getByText("Shadow sample must be above 0 and at most 100 percent.").waitFor();
    await card().getByLabel("Shadow sample (%)").fill("100");
    await card().getByRole("button", { name: "Shadow" }).click();
    await until(async () => (await stage().textContent()) === "0.3.0 · shadow 100%", 10_000, "0.3.0 in shadow");
    for (let i = 0; i < SHADOWED_REQUESTS; i++) {
      const r = await fetch(`${gateway.proxy}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${clientKey()}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: `shadowed ${i}` }] }),
      });
      expect(r.status === 200, `a shadowed request answered ${r.status}`);
      await r.arrayBuffer();
    }
    await until(
      async () => {
        await card().getByRole("button", { name: "Refresh" }).click();
        return (await card().getByTestId("shadow-disagreements").locator("tr").count()) === SHADOWED_REQUESTS;
      },
      15_000,
      `${SHADOWED_REQUESTS} disagreements listed`,
    );
    const totals = await card().getByTestId("shadow-totals").textContent();
    expect(totals.includes(`Compared ${SHADOWED_REQUESTS}`) && totals.includes("Agreeing 0"), `totals read ${totals}`);
    const row = await card().getByTestId("shadow-disagreements").locator("tr").first().textContent();
    expect(row.includes("cached 13") && row.includes("cached 0"), `a disagreement reads ${row}`);
    await card().scrollIntoViewIfNeeded();
    await shot(page, "rollout-shadow-1280");
  });

  await step("rollout: canary, promote, then a canary rolled back, each audited", async () => {
    await card().getByLabel("Canary (%)").fill("101");
    await card().getByRole("button", { name: "Canary" }).click();
    await page.getByText("Canary must be a whole percentage from 1 to 100.").waitFor();
    await card().getByLabel("Canary (%)").fill("25");
    await card().getByRole("button", { name: "Canary" }).click();
    await until(async () => (await stage().textContent()) === "0.3.0 · canary 25%", 10_000, "0.3.0 in canary");
    await shot(page, "rollout-canary-1280");
    await card().getByRole("button", { name: "Promote" }).click();
    await until(async () => (await stage().textContent()) === "no candidate", 10_000, "no candidate after promote");
    await card().getByTestId("rollout-state").getByText("0.3.0").waitFor();
    await shot(page, "rollout-promoted-1280");
    // The version served before comes back as a canary, and is rolled back.
    await card().getByLabel("Candidate version").selectOption({ label: "0.1.0" });
    await card().getByRole("button", { name: "Canary" }).click();
    await until(async () => (await stage().textContent()) === "0.1.0 · canary 25%", 10_000, "0.1.0 in canary");
    await card().getByRole("button", { name: "Roll back" }).click();
    await until(async () => (await stage().textContent()) === "no candidate", 10_000, "no candidate after roll back");
    await shot(page, "rollout-rolled-back-1280");
    const audit = await adminCall(gateway, "GET", "/api/audit?resource=provider&page_size=50");
    const steps = audit.items.map((e) => e.action).filter((a) => a.startsWith("rollout."));
    expect(
      JSON.stringify(steps) === JSON.stringify(["rollout.rollback", "rollout.canary", "rollout.promote", "rollout.canary", "rollout.shadow"]),
      `audited ${JSON.stringify(steps)}`,
    );
    // Later steps expect openai on its built-in version and 0.3.0 gone.
    await adminCall(gateway, "PUT", "/api/providers/1", { plugin_version: "0.1.0" });
    const candidate = (await adminCall(gateway, "GET", "/api/plugins")).find((p) => p.name === "openai" && p.version === "0.3.0");
    await adminCall(gateway, "DELETE", `/api/plugins/${candidate.id}`);
  });
}
