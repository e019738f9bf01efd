// Browser tests of the console on the bad day (issue 17): a key's
// snippet run with the official OpenAI SDK and its test request traced,
// the log following live, upstream keys found, checked all at once and
// cooling down by the second, client keys' use against their limits,
// page titles and the skip link, and axe-core on every page, light and
// dark. `t` carries run.mjs's helpers and the running gateway.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { axeViolations, describeViolations } from "./a11y.mjs";

/** The pages of the console, with their titles, for an admin. */
export const PAGES = [
  ["/", "Dashboard"],
  ["/logs", "Logs"],
  ["/upstream-keys", "Upstream Keys"],
  ["/client-keys", "Client Keys"],
  ["/providers", "Providers & Plugins"],
  ["/users", "Users"],
  ["/audit", "Audit Log"],
];

/** Seconds the snippet may run under the SDK. */
const SNIPPET_TIMEOUT_MS = 60_000;

/** The Python of tests/python's virtual environment, made by its run.sh when missing. */
function sdkPython(repo) {
  const python = join(repo, "tests/python/.venv/bin/python");
  if (!existsSync(python)) {
    const made = spawnSync(join(repo, "tests/python/run.sh"), ["--version"], { encoding: "utf8", timeout: 300_000 });
    if (made.status !== 0) throw new Error(`tests/python/run.sh could not make the SDK environment: ${made.stderr || made.error}`);
  }
  return python;
}

/** Runs a snippet with the official SDKs; resolves to its stdout or throws with its stderr. */
function runSnippet(repo, code) {
  const dir = mkdtempSync(join(tmpdir(), "ai-proxy-snippet-"));
  try {
    const file = join(dir, "snippet.py");
    writeFileSync(file, code);
    const run = spawnSync(sdkPython(repo), [file], { encoding: "utf8", timeout: SNIPPET_TIMEOUT_MS });
    if (run.status !== 0) throw new Error(`the snippet exited with ${run.status}: ${(run.stderr || String(run.error)).slice(-800)}`);
    return run.stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function snippetSteps(t) {
  const { step, page, gateway, expect, until, go, shot, repo } = t;

  await step("the created-key dialog's OpenAI snippet runs with the official SDK; its test request shows its trace", async () => {
    await go(page, "/client-keys", "Client Keys");
    await page.getByRole("button", { name: "Create client key" }).first().click();
    const form = page.getByRole("dialog");
    await form.getByLabel("Name").fill("e2e-snippet");
    await form.getByLabel("Provider").selectOption({ label: "openai" });
    await form.getByLabel("team-a").check();
    await form.getByRole("button", { name: "Create key" }).click();
    const created = page.getByRole("dialog", { name: "Client key created" });
    const key = (await created.getByTestId("new-client-key").textContent()).trim();
    const base = (await created.getByTestId("sdk-base-url").textContent()).trim();
    expect(base === `${gateway.proxy}/v1`, `the base URL reads ${base}, not ${gateway.proxy}/v1`);
    await created.getByRole("tab", { name: "Anthropic SDK" }).click();
    expect((await created.getByTestId("sdk-base-url").textContent()).trim() === gateway.proxy, "the Anthropic base URL is not the gateway");
    await created.getByRole("tab", { name: "OpenAI SDK" }).click();
    await created.getByRole("button", { name: "Copy the OpenAI SDK snippet" }).click();
    const code = await until(async () => {
      const text = await page.evaluate(() => navigator.clipboard.readText());
      return text.includes("from openai import OpenAI") ? text : null;
    }, 5_000, "the snippet on the clipboard");
    expect(code.includes(key), "the copied snippet lacks the key");
    await shot(page, "client-key-snippet-1280");
    const printed = runSnippet(repo, code);
    expect(printed.trim().length > 0, "the SDK printed no answer");
    await created.getByRole("button", { name: "Send a test request" }).click();
    const result = created.getByTestId("test-request-result");
    await result.getByRole("link", { name: /^Trace \d+$/ }).waitFor({ timeout: 10_000 });
    const text = await result.textContent();
    expect(text.startsWith("200") && text.includes("GET /v1/models") && text.includes("team-a"), `the test request reads ${text}`);
    await shot(page, "client-key-test-request-1280");
    const link = result.getByRole("link", { name: /^Trace \d+$/ });
    const id = (await link.textContent()).replace("Trace ", "");
    await created.getByRole("button", { name: "Done" }).click();
    // The trace id of a dialog's title is a filter of the log.
    await go(page, `/logs?id=${id}`, "Logs");
    const rows = page.getByTestId("trace-rows").locator("tr");
    await until(async () => (await rows.count()) === 1 && (await rows.first().textContent()).includes("e2e-snippet"), 10_000, `only trace ${id}`);
  });

  await step("the log follows live and says its time zone", async () => {
    await go(page, "/logs", "Logs");
    const zone = await page.getByTestId("time-zone").textContent();
    expect(/^UTC/.test(zone), `the time zone reads ${zone}`);
    const rows = page.getByTestId("trace-rows").locator("tr");
    const before = (await rows.first().getAttribute("aria-label")) ?? "";
    const r = await fetch(`${gateway.proxy}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.clientKey()}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "follow me" }] }),
    });
    expect(r.status === 200, `the request answered ${r.status}`);
    await r.arrayBuffer();
    // No click, no reload: the list picks the new request up by itself.
    await until(async () => ((await rows.first().getAttribute("aria-label")) ?? "") !== before, 10_000, "the new request at the top");
    await page.getByTestId("follow-live").click();
    expect((await page.getByTestId("follow-live").getAttribute("aria-checked")) === "false", "follow did not switch off");
    await page.getByTestId("follow-live").click();
  });
}

export async function upstreamKeySteps(t) {
  const { step, page, expect, until, go, shot, adminCall, gateway } = t;

  await step("upstream keys are searched, filtered, checked all at once, and a cooldown counts down", async () => {
    await go(page, "/upstream-keys", "Upstream Keys");
    await page.getByRole("button", { name: "Add upstream key" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Provider").selectOption({ label: "openai" });
    await dialog.getByLabel("Name").fill("team-busy");
    await dialog.getByLabel("Secret").fill("mock-429-busy");
    await dialog.getByRole("button", { name: "Add key" }).click();
    await dialog.waitFor({ state: "hidden" });
    const count = page.getByTestId("key-count");
    await page.getByLabel("Search upstream keys").fill("busy");
    await until(async () => (await count.textContent()) === "1 of 3 keys shown", 5_000, "one key found");
    await page.getByLabel("Search upstream keys").fill("");
    await page.getByLabel("Filter by provider").selectOption({ label: "anthropic" });
    await page.getByText("No upstream key matches").waitFor();
    await page.getByLabel("Filter by provider").selectOption({ label: "openai" });
    await until(async () => (await count.textContent()) === "3 keys", 5_000, "three openai keys");
    // Each row's check button has a name of its own.
    expect((await page.getByRole("button", { name: "Check team-a", exact: true }).count()) === 1, "Check team-a is not one button");
    await page.getByRole("button", { name: "Check all shown" }).click();
    await page.getByRole("alert").filter({ hasText: "Checked 3 keys: 1 healthy, 2 failing." }).waitFor({ timeout: 20_000 });
    const busy = page.getByTestId("upstream-key-team-busy");
    await busy.getByTestId("health-checked").getByText(/checked (just now|\d+ s ago)/).waitFor();
    const seconds = async () => Number(/cooling down (\d+)s/.exec(await busy.getByTestId("health-rotation").textContent())?.[1]);
    const first = await until(seconds, 5_000, "team-busy cooling down");
    await until(async () => (await seconds()) < first, 4_000, "the cooldown counting down without a reload");
    const explained = await page.getByTestId("upstream-key-team-a").getByTestId("health-explained").textContent();
    expect(explained.startsWith("Score ") && explained.includes("recent attempts that succeeded"), `the score is explained as ${explained}`);
    await shot(page, "upstream-keys-search-1280");
    const key = (await adminCall(gateway, "GET", "/api/upstream-keys")).find((k) => k.name === "team-busy");
    await adminCall(gateway, "DELETE", `/api/upstream-keys/${key.id}`);
  });

  await step("a client key's trends show its cost and today's use against its daily limits", async () => {
    await go(page, "/client-keys", "Client Keys");
    await page.getByRole("button", { name: "Charts of limited-app" }).click();
    const trends = page.getByTestId("client-key-trends");
    await trends.getByTestId("limit-usage").getByText("Cost today").waitFor();
    const summary = await trends.getByTestId("chart-summary").first().textContent();
    expect(/: \d+ requests?, /.test(summary), `the chart summary reads ${summary}`);
    // The range is shared: 30 days here is 30 days on the dashboard too.
    await page.getByRole("dialog").getByLabel("Time range").selectOption("30");
    await page.getByRole("dialog", { name: "limited-app: last 30 days" }).waitFor();
    await shot(page, "client-key-limits-use-1280");
    await page.keyboard.press("Escape");
    await go(page, "/", "Dashboard");
    expect((await page.getByLabel("Time range").inputValue()) === "30", "the dashboard forgot the range");
    await page.getByLabel("Time range").selectOption("7");
  });
}

export async function accessibilitySteps(t) {
  const { step, page, browser, gateway, expect, go, shot } = t;

  await step("every page has its own title and a skip link to its content", async () => {
    for (const [path, title] of PAGES) {
      await go(page, path, title);
      const doc = await page.title();
      expect(doc === `${title} · ai-proxy`, `${path} is titled ${doc}`);
    }
    await go(page, "/logs", "Logs");
    await page.keyboard.press("Tab");
    const skip = page.getByRole("link", { name: "Skip to content" });
    expect(await skip.evaluate((el) => el === document.activeElement), "Tab does not reach the skip link first");
    await shot(page, "skip-link-1280");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id === "main"), "the skip link does not move focus to the content");
  });

  await step("axe-core finds no serious or critical violation on any page, light and dark", async () => {
    const problems = [];
    for (const theme of ["light", "dark"]) {
      await page.evaluate((v) => localStorage.setItem("aip-theme", v), theme);
      for (const [path, title] of PAGES) {
        await go(page, path, title);
        await page.locator(".recharts-surface").first().waitFor({ timeout: path === "/" ? 10_000 : 1 }).catch(() => {});
        const found = await axeViolations(page);
        if (found.length) problems.push(describeViolations(`${path} (${theme})`, found));
      }
      // The dialogs of the bad day: a trace and a key's trends.
      await go(page, "/logs", "Logs");
      await page.getByTestId("trace-rows").locator("tr").first().click();
      await page.getByTestId("trace-detail").waitFor();
      const dialog = await axeViolations(page);
      if (dialog.length) problems.push(describeViolations(`trace dialog (${theme})`, dialog));
      await page.keyboard.press("Escape");
    }
    await page.evaluate(() => localStorage.setItem("aip-theme", "light"));
    const anonymous = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" });
    try {
      const login = await anonymous.newPage();
      for (const theme of ["light", "dark"]) {
        await login.goto(gateway.admin);
        await login.evaluate((v) => localStorage.setItem("aip-theme", v), theme);
        await login.reload();
        await login.getByRole("button", { name: "Sign in" }).waitFor();
        expect((await login.title()) === "Sign in · ai-proxy", `the login page is titled ${await login.title()}`);
        const found = await axeViolations(login);
        if (found.length) problems.push(describeViolations(`login (${theme})`, found));
      }
    } finally {
      await anonymous.close();
    }
    expect(!problems.length, `axe-core:\n${problems.join("\n")}`);
    // Sixteen pages and two dialogs: about 30 s on an idle machine, twice that on a busy one.
  }, 180_000);
}
