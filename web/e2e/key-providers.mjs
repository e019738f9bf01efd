// Browser test of one client key with several providers (issue 19): the
// key's Providers dialog adds a second provider, shows the gateway's
// refusal of an ambiguous set in words (naming the path both serve), and
// saves once a model prefix tells them apart. The key is made and removed
// through the admin API, so the rest of the run does not see it.
// `t` carries run.mjs's helpers and the running gateway.

export async function keyProviderSteps(t) {
  const { step, page, expect, until, go, shot, adminCall, gateway } = t;

  await step("a client key gets a second provider through its dialog; an ambiguous set is refused in words", async () => {
    const providers = await adminCall(gateway, "GET", "/api/providers");
    const openai = providers.find((p) => p.name === "openai");
    const made = await adminCall(gateway, "POST", "/api/client-keys", { name: "multi-app", provider_id: openai.id });
    try {
      await go(page, "/client-keys", "Client Keys");
      await page.getByRole("button", { name: "Providers of multi-app" }).click();
      const dialog = page.getByRole("dialog", { name: "Providers of multi-app" });
      await until(async () => (await dialog.getByTestId("key-provider-row").count()) === 1, 5_000, "the key's own provider listed");
      await dialog.getByRole("button", { name: "Add a provider" }).click();
      const rows = dialog.getByTestId("key-provider-row");
      await until(async () => (await rows.count()) === 2, 5_000, "a second row");
      await rows.nth(1).getByLabel("Provider", { exact: true }).selectOption({ label: "anthropic" });
      await dialog.getByRole("button", { name: "Save providers" }).click();
      await dialog.getByText(/both serve GET \/v1\/models/).waitFor();
      await shot(page, "key-providers-ambiguous-1280");
      await rows.nth(1).getByLabel("Model prefixes").fill("claude-");
      await dialog.getByRole("button", { name: "Save providers" }).click();
      await dialog.waitFor({ state: "hidden" });
      const stored = await adminCall(gateway, "GET", `/api/client-keys/${made.id}/providers`);
      const summary = stored.providers.map((p) => `${p.provider_id}:${p.model_prefixes.join("|")}`).join(",");
      const anthropic = providers.find((p) => p.name === "anthropic");
      expect(summary === `${openai.id}:,${anthropic.id}:claude-`, `the key's providers are ${summary}`);
    } finally {
      await adminCall(gateway, "DELETE", `/api/client-keys/${made.id}`);
    }
  });
}
