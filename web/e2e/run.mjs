// End-to-end tests of the console in headless Chromium (Debian's package,
// driven by playwright-core; no browser download) against the real
// gateway and the mock upstream. Screenshots of every page, at 1280 and
// 390 px, light and dark, go to the folder printed at the start.
//
// Binaries: $CARGO_TARGET_DIR (default <repo>/target) /debug/ai-proxy and
// /debug/mock-upstream. The UI must be built (npm run build).
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { ADMIN_PASSWORD, adminCall, killAll, startGateway, startMock, startOAuthServer, withTimeout } from "./harness.mjs";
import { accessibilitySteps, snippetSteps, upstreamKeySteps } from "./bad-day.mjs";
import { keyProviderSteps } from "./key-providers.mjs";
import { rolloutSteps } from "./rollout.mjs";
import { teamSteps } from "./teams.mjs";
import { conformanceSteps } from "./conformance.mjs";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(web, "..");
const targetDir = resolve(repo, process.env.CARGO_TARGET_DIR || "target");
const gatewayBin = join(targetDir, "debug/ai-proxy");
const mockBin = join(targetDir, "debug/mock-upstream");
const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const out = resolve(process.env.AI_PROXY_E2E_OUT || join(web, "e2e-out"));
const shots = join(out, "screenshots");
const STEP_MS = 30_000;
const TOTAL_MS = 600_000;

for (const [what, path] of [
  ["gateway binary", gatewayBin],
  ["mock-upstream binary", mockBin],
  ["Chromium", chromiumPath],
  ["built UI", join(web, "dist/index.html")],
]) {
  if (!existsSync(path)) {
    console.error(`e2e: missing ${what} at ${path}`);
    process.exit(2);
  }
}
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
console.log(`e2e: screenshots go to ${shots}`);

const overall = setTimeout(() => {
  console.error(`e2e: gave up after ${TOTAL_MS / 1000} s`);
  killAll();
  process.exit(1);
}, TOTAL_MS);

const results = [];
let page; // the desktop page
let focus = null; // another page a step works in, for its failure screenshot

async function shot(p, name) {
  await p.mouse.move(0, 0); // no hover tooltips in the pictures
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function step(name, fn, ms = STEP_MS) {
  const started = Date.now();
  try {
    focus = null;
    await withTimeout(fn(), ms, name);
    results.push({ name, ok: true });
    console.log(`ok    ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`FAIL  ${name} (${Date.now() - started} ms)\n      ${String(error.message).split("\n").slice(0, 6).join("\n      ")}`);
    const p = focus ?? page;
    if (p) await shot(p, `FAILED-${name.replace(/\W+/g, "-")}`).catch(() => {});
  }
}

function skip(name, reason) {
  results.push({ name, ok: true, skipped: true });
  console.log(`skip  ${name}: ${reason}`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/** Polls `fn` until it returns a truthy value or `ms` pass. */
async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`not true within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Fails when a visible table is wider than its card (its columns would scroll sideways). */
async function noSidewaysTables(p, path) {
  const wide = await p.evaluate(() =>
    [...document.querySelectorAll("[data-table]")].filter((t) => t.offsetParent && t.scrollWidth > t.clientWidth + 1).length,
  );
  expect(wide === 0, `${path} has ${wide} table(s) scrolling sideways at ${p.viewportSize().width} px`);
}

async function go(p, path, title) {
  await p.goto(`${gateway.admin}${path}`);
  await p.getByRole("heading", { level: 1, name: title }).waitFor({ timeout: 10_000 });
  await p.waitForLoadState("networkidle", { timeout: 10_000 }).catch(() => {});
}

const wasmFiles = (dir) => {
  if (!existsSync(dir)) return [];
  const found = [];
  const walk = (d, depth) => {
    for (const entry of readdirSync(d)) {
      const path = join(d, entry);
      if (statSync(path).isDirectory()) {
        if (depth < 5) walk(path, depth + 1);
      } else if (entry.endsWith(".wasm") && !path.includes("/deps/")) found.push(path);
    }
  };
  walk(dir, 0);
  return found;
};

const started = Date.now();
const mock = await startMock(mockBin);
const gateway = await startGateway(gatewayBin, join(web, "dist"));
console.log(`e2e: gateway admin ${gateway.admin}, proxy ${gateway.proxy}, mock ${mock.url}`);
const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
await desktop.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gateway.admin });
page = await desktop.newPage();
const consoleErrors = [];
page.on("pageerror", (e) => consoleErrors.push(String(e)));
let clientKey = null;

// Upstream OAuth (issue 6) runs when this gateway has its API; the test
// authorization server installs and starts in the background meanwhile.
const oauthProbe = await fetch(`${gateway.admin}/api/oauth/authorize`, {
  method: "POST",
  headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`, "content-type": "application/json" },
  body: "{}",
});
const oauthApi = oauthProbe.status !== 404 && oauthProbe.status !== 405;
const oauthServer = oauthApi ? startOAuthServer(repo) : null;
oauthServer?.catch(() => {}); // awaited (and reported) by its step

try {
  await step("the console is served at / and unknown /api paths stay JSON 404", async () => {
    const root = await fetch(`${gateway.admin}/`);
    expect(root.ok && (await root.text()).includes('id="root"'), "/ does not serve index.html");
    const deep = await fetch(`${gateway.admin}/logs?model=x`);
    expect(deep.ok && (await deep.text()).includes('id="root"'), "/logs does not fall back to index.html");
    const api = await fetch(`${gateway.admin}/api/nope`);
    const body = await api.json();
    expect(api.status === 404 && body.error?.message, `/api/nope answered ${api.status}`);
  });

  await step("login refuses a wrong password in words, then signs in", async () => {
    await page.goto(gateway.admin);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill("not-the-password");
    await shot(page, "login-1280");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong user name or password.").waitFor();
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await page.getByText("No requests in this range.").first().waitFor();
    // A new operator is told the way to a first request.
    await page.getByTestId("first-run").getByRole("link", { name: /Add an upstream key/ }).waitFor();
    await shot(page, "dashboard-empty-1280");
  });

  await step("a provider's base URL is changed through its edit dialog", async () => {
    await go(page, "/providers", "Providers & Plugins");
    await page.getByRole("button", { name: "Edit openai" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Base URL").fill(mock.url);
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByTestId("provider-openai").getByText(mock.url).waitFor();
  });

  await step("API errors show in words inside the dialog", async () => {
    await page.getByRole("button", { name: "Add provider" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("openai");
    await dialog.getByLabel("Base URL").fill(mock.url);
    await dialog.getByRole("button", { name: "Add provider" }).click();
    await dialog.getByText("A provider named 'openai' exists.").waitFor();
    await shot(page, "provider-error-dialog-1280");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
  });

  await step("upstream keys are created through the UI", async () => {
    await go(page, "/upstream-keys", "Upstream Keys");
    await page.getByText("No upstream keys yet").waitFor();
    for (const [name, secret] of [
      ["team-a", "sk-e2e-good-secret"],
      ["team-bad", "mock-401-revoked"],
    ]) {
      await page.getByRole("button", { name: "Add upstream key" }).click();
      const dialog = page.getByRole("dialog");
      await dialog.getByLabel("Provider").selectOption({ label: "openai" });
      await dialog.getByLabel("Name").fill(name);
      await dialog.getByLabel("Secret").fill(secret);
      await dialog.getByRole("button", { name: "Add key" }).click();
      await dialog.waitFor({ state: "hidden" });
      await page.getByTestId(`upstream-key-${name}`).waitFor();
    }
    const hint = await page.getByTestId("upstream-key-team-a").locator("code").textContent();
    expect(!hint.includes("sk-e2e-good-secret"), "the secret is shown in full");
  });

  await step("one-click health checks set the health tags", async () => {
    const good = page.getByTestId("upstream-key-team-a");
    await good.getByRole("button", { name: "Check" }).click();
    await good.getByTestId("health-badge").getByText("Healthy").waitFor();
    const bad = page.getByTestId("upstream-key-team-bad");
    await bad.getByRole("button", { name: "Check" }).click();
    await bad.getByTestId("health-badge").getByText("Invalid key").waitFor();
    await page.getByRole("status").filter({ hasText: "team-a: Healthy" }).waitFor();
    // The live health: a score per key, and the failing one out of the rotation.
    await until(async () => (await good.getByTestId("health-score").textContent()).endsWith("%"), 5_000, "team-a has a score");
    const tag = await bad.getByTestId("health-rotation").textContent();
    expect(/^(cooling down \d+s|out of rotation)$/.test(tag), `team-bad is tagged ${tag}`);
    await shot(page, "upstream-keys-1280");
  });

  await step("an upstream key's limits and expiry are set through its dialog", async () => {
    const bad = page.getByTestId("upstream-key-team-bad");
    await bad.getByRole("button", { name: "Edit team-bad" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit team-bad" });
    await dialog.getByLabel("Requests / second").fill("1.5");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByText("Requests / second must be a whole number, 0 or more.").waitFor();
    await dialog.getByLabel("Requests / second").fill("");
    await dialog.getByLabel("Tokens / day").fill("250000");
    await dialog.getByLabel("Expires").fill("2099-01-01T12:00");
    await shot(page, "upstream-key-limits-dialog-1280");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await bad.getByTestId("upstream-key-limits").getByText("250K tokens/day").waitFor();
    await bad.getByTestId("upstream-key-limits").getByText(/expires 2099-01-01/).waitFor();
    const key = (await adminCall(gateway, "GET", "/api/upstream-keys")).find((k) => k.name === "team-bad");
    expect(key.limits.tokens_per_day === 250000 && key.limits.requests_per_second === null, `limits are ${JSON.stringify(key.limits)}`);
  });

  await step("a client key is created, shown once and copied", async () => {
    await go(page, "/client-keys", "Client Keys");
    await page.getByRole("button", { name: "Create client key" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("e2e-app");
    await dialog.getByLabel("Provider").selectOption({ label: "openai" });
    await dialog.getByLabel("team-a").check();
    await dialog.getByLabel("Files").check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    const created = page.getByRole("dialog", { name: "Client key created" });
    clientKey = (await created.getByTestId("new-client-key").textContent()).trim();
    const keys = await adminCall(gateway, "GET", "/api/client-keys");
    const made = (keys.items ?? keys).find((k) => k.name === "e2e-app");
    const classes = [...(made?.endpoint_classes ?? [])].sort().join(",");
    expect(classes === "embeddings,files,inference,models,token_counting", `the key was granted ${classes}`);
    expect(clientKey.startsWith("aip-"), `unexpected key ${clientKey}`);
    await created.getByRole("button", { name: "Copy key" }).click();
    await created.getByText("Copied to the clipboard.").waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied === clientKey, "the clipboard does not hold the key");
    await shot(page, "client-key-created-1280");
    await created.getByRole("button", { name: "Done" }).click();
    await page.getByTestId("client-key-e2e-app").getByText("team-a").waitFor();
    const cell = await page.getByTestId("client-key-e2e-app").textContent();
    expect(!cell.includes(clientKey), "the full key is still shown after the dialog");
  });

  await step("proxied requests reach the mock upstream", async () => {
    expect(clientKey, "no client key from the previous step");
    const send = (body, headers = {}) =>
      fetch(`${gateway.proxy}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    const chat = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello from the console test" }] };
    for (let i = 0; i < 4; i++) {
      const r = await send(chat);
      expect(r.status === 200, `chat answered ${r.status}`);
      await r.arrayBuffer();
    }
    const stream = await send({ ...chat, model: "gpt-4o", stream: true });
    expect(stream.status === 200, `stream answered ${stream.status}`);
    await stream.text();
    const failing = await send(chat, { "x-mock-status": "500" });
    expect(failing.status === 500, `forced error answered ${failing.status}`);
    await failing.arrayBuffer();
    await until(async () => (await adminCall(gateway, "GET", "/api/logs/traces?page_size=10")).total >= 6, 10_000, "6 traces written");
  });

  await step("logs list the requests; filters and the detail dialog work", async () => {
    await go(page, "/logs", "Logs");
    const rows = page.getByTestId("trace-rows").locator("tr");
    await until(async () => (await rows.count()) >= 6, 10_000, "6 rows in the log");
    await shot(page, "logs-1280");
    // "All upstream failures" in one filter; the trace says what the upstream said.
    await page.getByLabel("Status").fill("5xx");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await rows.count()) === 1 && new URL(page.url()).searchParams.get("status_code") === "5xx", 10_000, "one 5xx row");
    await rows.first().click();
    const failed = page.getByTestId("trace-detail");
    await failed.getByTestId("attempt-message").getByText("The server had an error while processing your request. Sorry about that!").waitFor();
    // The trace's own error is the upstream's message too, not a dash.
    const said = await failed.getByText("The server had an error while processing your request. Sorry about that!").count();
    expect(said === 2, `the upstream's message shows ${said} times, not in the error and the attempt`);
    await shot(page, "log-failed-attempt-1280");
    await page.keyboard.press("Escape");
    await failed.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Reset filters" }).click();
    await page.getByLabel("Error class").fill("server_error");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await rows.count()) === 1, 10_000, "one server_error row");
    await page.getByRole("button", { name: "Reset filters" }).click();
    // A model prefix finds gpt-4o and gpt-4o-mini; a list of two exact names finds both too.
    await page.getByLabel("Model").fill("gpt-4");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await rows.count()) === 6, 10_000, "six gpt-4* rows");
    await page.getByLabel("Model").fill("gpt-4o-mini, nothing-like-it");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await rows.count()) === 5, 10_000, "five gpt-4o-mini rows by list");
    await page.getByRole("button", { name: "Reset filters" }).click();
    await page.getByLabel("Status").fill("abc");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Status must be an HTTP code").waitFor();
    await page.getByRole("button", { name: "Reset filters" }).click();
    await page.getByLabel("Search").fill("gpt-4o-mini");
    await page.getByLabel("Search").press("Enter");
    await until(async () => (await rows.count()) === 5, 10_000, "five gpt-4o-mini rows (four ok, one failed)");
    await page.getByLabel("Client key").selectOption({ label: "e2e-app" });
    await page.getByLabel("Status").fill("200");
    await page.getByRole("button", { name: "Apply" }).click();
    await until(async () => (await rows.count()) === 4, 10_000, "four successful gpt-4o-mini rows");
    await rows.first().focus();
    await page.keyboard.press("Enter");
    const detail = page.getByTestId("trace-detail");
    await detail.waitFor();
    const text = await detail.textContent();
    expect(text.includes("team-a") && text.includes("e2e-app") && text.includes("gpt-4o-mini"), "detail lacks routing");
    await detail.getByTestId("trace-attempts").waitFor();
    const cost = await detail.getByTestId("trace-cost").textContent();
    expect(cost.startsWith("$"), `cost reads ${cost}`);
    await shot(page, "log-detail-1280");
    await page.keyboard.press("Escape");
    await detail.waitFor({ state: "hidden" });
  });

  await step("the log pages through many requests on the server", async () => {
    const before = (await adminCall(gateway, "GET", "/api/logs/traces?page_size=1")).total;
    const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "page me" }] });
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 15; i++) {
          const r = await fetch(`${gateway.proxy}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json" },
            body,
          });
          await r.arrayBuffer();
        }
      }),
    );
    const total = before + 60;
    await until(async () => (await adminCall(gateway, "GET", "/api/logs/traces?page_size=1")).total === total, 10_000, `${total} traces`);
    await go(page, "/logs?page_size=25", "Logs");
    const summary = page.getByTestId("page-summary");
    await until(async () => (await summary.textContent()) === `1–25 of ${total}`, 5_000, "first page summary");
    await page.getByRole("button", { name: "Next page" }).click();
    await until(async () => (await summary.textContent()) === `26–50 of ${total}`, 5_000, "second page summary");
    expect(new URL(page.url()).searchParams.get("page") === "2", "the page is not in the URL");
    await page.getByLabel("Rows per page").selectOption("100");
    await until(async () => (await summary.textContent()) === `1–${total} of ${total}`, 5_000, "one page of 100");
    await until(async () => (await page.getByTestId("trace-rows").locator("tr").count()) === total, 5_000, "every row on one page");
  });

  await step("the dashboard shows the traffic in figures and charts", async () => {
    await go(page, "/", "Dashboard");
    await until(async () => (await page.getByTestId("stat-requests").textContent()) === "66", 10_000, "66 requests counted");
    const rate = await page.getByTestId("stat-error-rate").textContent();
    expect(rate === "1.52%", `error rate reads ${rate}, not 1 in 66`);
    // Upstream failures apart from the clients' mistakes.
    await page.getByText("1 5xx · 0 client errors (4xx)").waitFor();
    await page.getByTestId("chart-requests").locator(".recharts-area-curve").first().waitFor();
    await page.getByTestId("chart-tokens").locator(".recharts-bar-rectangle path").first().waitFor();
    await page.getByTestId("top-models").getByText("gpt-4o-mini").waitFor();
    await page.getByTestId("top-client-keys").getByText("e2e-app").waitFor();
    await shot(page, "dashboard-1280-light");
  });

  await step("key pages draw their trend charts", async () => {
    await go(page, "/upstream-keys", "Upstream Keys");
    await page.getByRole("button", { name: "Trends of team-a" }).click();
    await page.getByTestId("key-trends").locator(".recharts-line-curve").first().waitFor();
    await shot(page, "upstream-key-trends-1280");
    await page.keyboard.press("Escape");
    await go(page, "/client-keys", "Client Keys");
    await page.getByRole("button", { name: "Charts of e2e-app" }).click();
    await page.getByTestId("client-key-trends").locator(".recharts-area-curve").first().waitFor();
    await shot(page, "client-key-charts-1280");
    await page.keyboard.press("Escape");
    await shot(page, "client-keys-1280");
  });

  let limitedKey = null;
  await step("a client key limited to 1 request a minute through the UI refuses the second with 429, and the log shows it", async () => {
    await go(page, "/client-keys", "Client Keys");
    await page.getByRole("button", { name: "Create client key" }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Name").fill("limited-app");
    await dialog.getByLabel("Provider").selectOption({ label: "openai" });
    await dialog.getByLabel("team-a").check();
    await dialog.getByRole("button", { name: "Create key" }).click();
    const created = page.getByRole("dialog", { name: "Client key created" });
    limitedKey = (await created.getByTestId("new-client-key").textContent()).trim();
    await created.getByRole("button", { name: "Done" }).click();
    const row = page.getByTestId("client-key-limited-app");
    await row.getByTestId("client-key-limits").getByText("unlimited").waitFor();
    await row.getByRole("button", { name: "Edit limited-app" }).click();
    const edit = page.getByRole("dialog", { name: "Edit limited-app" });
    await edit.getByLabel("Strategy").selectOption("best_health");
    await edit.getByLabel("Requests / minute").fill("1");
    await edit.getByLabel("Cost / day (USD)").fill("2.50");
    await shot(page, "client-key-limits-dialog-1280");
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "hidden" });
    await row.getByTestId("client-key-limits").getByText("1/min").waitFor();
    await row.getByTestId("client-key-limits").getByText("$2.50/day").waitFor();
    expect((await row.getByTestId("client-key-strategy").textContent()) === "Best health", "the strategy is not shown");
    const send = () =>
      fetch(`${gateway.proxy}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${limitedKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "limited" }] }),
      });
    const first = await send();
    expect(first.status === 200, `the first request answered ${first.status}`);
    await first.arrayBuffer();
    const second = await send();
    const body = await second.text();
    expect(second.status === 429, `the second request answered ${second.status}: ${body}`);
    await go(page, "/logs", "Logs");
    await page.getByLabel("Client key").selectOption({ label: "limited-app" });
    await page.getByRole("button", { name: "Apply" }).click();
    const rows = page.getByTestId("trace-rows").locator("tr");
    await until(async () => (await rows.filter({ hasText: "429" }).count()) === 1, 10_000, "one 429 row of limited-app");
    await shot(page, "logs-rate-limited-1280");
  });

  const bad = { step, page, browser, gateway, expect, until, go, shot, adminCall, repo, clientKey: () => clientKey };
  await snippetSteps(bad);
  await upstreamKeySteps(bad);
  await keyProviderSteps(bad);

  await step("an OAuth client is created, its secret shown once, and it gets a token until switched off", async () => {
    await go(page, "/client-keys", "Client Keys");
    const section = page.getByTestId("oauth-clients");
    await section.getByText("No OAuth clients").waitFor();
    await section.getByRole("button", { name: "Add OAuth client" }).click();
    const dialog = page.getByRole("dialog", { name: "Add OAuth client" });
    await dialog.getByLabel("Name").fill("ci");
    await dialog.getByLabel("Client key").selectOption({ label: "e2e-app" });
    await dialog.getByRole("button", { name: "Create client" }).click();
    const created = page.getByRole("dialog", { name: "OAuth client created" });
    const id = (await created.getByTestId("new-oauth-client-id").textContent()).trim();
    const secret = (await created.getByTestId("new-oauth-client-secret").textContent()).trim();
    expect(id && secret && id !== secret, `id ${id}, secret ${secret}`);
    await created.getByRole("button", { name: "Copy client secret" }).click();
    await until(async () => (await page.evaluate(() => navigator.clipboard.readText())) === secret, 3_000, "the secret on the clipboard");
    await shot(page, "oauth-client-created-1280");
    await created.getByRole("button", { name: "Done" }).click();
    const row = page.getByTestId("oauth-client-ci");
    await row.getByText("e2e-app").waitFor();
    expect(!(await page.textContent("body")).includes(secret), "the secret is still on the page");
    const token = () =>
      fetch(`${gateway.proxy}/oauth/token`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`, "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=client_credentials",
      });
    const granted = await token();
    const grant = await granted.json();
    expect(granted.status === 200 && grant.access_token, `the token request answered ${granted.status}`);
    await shot(page, "oauth-clients-1280");
    await row.getByRole("switch").click();
    await until(async () => (await row.getByRole("switch").getAttribute("aria-checked")) === "false", 5_000, "switch off");
    const refused = await token();
    await refused.arrayBuffer();
    expect(refused.status >= 400 && refused.status < 500, `a disabled client got ${refused.status}`);
  });

  await step("disabling an upstream key asks nothing; deleting one asks first", async () => {
    await go(page, "/upstream-keys", "Upstream Keys");
    const bad = page.getByTestId("upstream-key-team-bad");
    await bad.getByRole("switch").click();
    await until(async () => (await bad.getByRole("switch").getAttribute("aria-checked")) === "false", 5_000, "switch off");
    await bad.getByRole("button", { name: "Delete team-bad" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("Delete team-bad?").waitFor();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await bad.waitFor();
    await bad.getByRole("button", { name: "Delete team-bad" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await bad.waitFor({ state: "detached" });
  });

  await step("plugins are listed; the upload refuses a non-wasm file in words", async () => {
    await go(page, "/providers", "Providers & Plugins");
    await page.getByTestId("plugin-rows").getByText("openai").first().waitFor();
    await page.getByTestId("plugin-file").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await page.getByText("notes.txt is not a .wasm file.").waitFor();
    await shot(page, "providers-1280");
    // The same check on a dropped file: a .wasm name without the WebAssembly header.
    await drop(page, "fake.wasm", [0x50, 0x4b, 0x03, 0x04]);
    await page.getByText("fake.wasm is not WebAssembly").waitFor();
  });

  /** Drops a file with these bytes on the plugin drop zone, as a drag from the desktop would. */
  async function drop(p, name, bytes) {
    const transfer = await p.evaluateHandle(
      ([fileName, data]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(data)], fileName, { type: "application/wasm" }));
        return dt;
      },
      [name, bytes],
    );
    await p.getByTestId("plugin-dropzone").dispatchEvent("dragover", { dataTransfer: transfer });
    await p.getByTestId("plugin-dropzone").dispatchEvent("drop", { dataTransfer: transfer });
  }

  const probe = await fetch(`${gateway.admin}/api/plugins`, {
    method: "POST",
    headers: { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}` },
    body: new FormData(),
  });
  if (probe.status === 404 || probe.status === 405) {
    skip("a plugin is uploaded by drag and drop", `POST /api/plugins answers ${probe.status}; the upload endpoint does not exist yet`);
    await step("a dropped plugin meets a gateway without uploads: the console says so", async () => {
      await drop(page, "plugin.wasm", [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
      await page.getByText("This gateway does not accept plugin uploads yet").waitFor();
    });
  } else {
    await step("a plugin is uploaded and the gateway's verdict shown", async () => {
      const found = wasmFiles(join(targetDir, "wasm-plugins"));
      // A second version of the OpenAI plugin (a test fixture) is new to the gateway.
      const wasm = found.find((f) => f.endsWith("plugin_openai_next.wasm")) ?? found[0];
      expect(wasm, `no .wasm under ${join(targetDir, "wasm-plugins")}`);
      await page.getByTestId("plugin-file").setInputFiles(wasm);
      // The gateway validates and stores it; the console names what it accepted.
      await page.getByRole("status").filter({ hasText: "Accepted openai version 0.2.0" }).waitFor({ timeout: 60_000 });
      await page.getByTestId("plugin-openai-0.2.0").waitFor();
      await shot(page, "plugin-upload-1280");
      // The same file again is a duplicate version, refused in words.
      await page.getByTestId("plugin-file").setInputFiles(wasm);
      await page.getByText(/already stored/).waitFor({ timeout: 60_000 });
    }, 150_000); // the upload runs the version's conformance vectors first
    const wasmDir = join(targetDir, "wasm-plugins");
    await conformanceSteps({ step, skip, page, expect, go, shot, adminCall, gateway, adminPassword: ADMIN_PASSWORD, wasmFiles: () => wasmFiles(wasmDir) });

    await step("the provider following latest serves the upload; a version in use is not deleted", async () => {
      // The upload refreshed the providers table too: openai follows latest.
      const openai = page.getByTestId("provider-openai");
      await until(async () => (await openai.getByTestId("provider-serving").textContent()) === "v0.2.0", 10_000, "openai serving v0.2.0");
      expect((await openai.getByTestId("provider-binding").textContent()) === "follows latest", "openai is not following latest");
      const next = page.getByTestId("plugin-openai-0.2.0");
      await until(async () => (await next.getByTestId("plugin-status").textContent()) === "serving", 5_000, "0.2.0 tagged serving");
      const old = page.getByTestId("plugin-openai-0.1.0");
      expect((await old.getByTestId("plugin-status").textContent()) === "enabled", "0.1.0 is not tagged enabled");
      expect(await old.getByRole("button", { name: "Delete openai 0.1.0" }).isDisabled(), "a built-in version offers delete");
      await next.getByRole("button", { name: "Delete openai 0.2.0" }).click();
      const confirm = page.getByRole("alertdialog");
      await confirm.getByRole("button", { name: "Delete" }).click();
      await confirm.getByText(/in use by provider\(s\) openai/).waitFor();
      await shot(page, "plugin-delete-in-use-1280");
      await confirm.getByRole("button", { name: "Cancel" }).click();
      await confirm.waitFor({ state: "hidden" });
      await next.waitFor();
    });

    await step("rollback: openai is pinned to 0.1.0 through its dialog and keeps serving", async () => {
      await page.getByRole("button", { name: "Edit openai" }).click();
      const dialog = page.getByRole("dialog", { name: "Edit openai" });
      await dialog.getByLabel("Plugin version").selectOption("0.1.0");
      await shot(page, "provider-bind-version-1280");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.waitFor({ state: "hidden" });
      const openai = page.getByTestId("provider-openai");
      await until(async () => (await openai.getByTestId("provider-binding").textContent()) === "pinned to 0.1.0", 10_000, "openai pinned to 0.1.0");
      await until(async () => (await openai.getByTestId("provider-serving").textContent()) === "v0.1.0", 10_000, "openai serving v0.1.0");
      const old = page.getByTestId("plugin-openai-0.1.0");
      await until(async () => (await old.getByTestId("plugin-status").textContent()) === "serving", 5_000, "0.1.0 tagged serving");
      await old.getByText("openai (pinned)").waitFor();
      // Traffic still flows through the pinned version, and its call count shows it.
      const r = await fetch(`${gateway.proxy}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${clientKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "pinned" }] }),
      });
      expect(r.status === 200, `a request through the pinned version answered ${r.status}`);
      await r.arrayBuffer();
      await go(page, "/providers", "Providers & Plugins");
      const calls = await page.getByTestId("plugin-openai-0.1.0").getByTestId("plugin-metrics").textContent();
      expect(/^[1-9][\d,]* calls/.test(calls), `0.1.0 shows ${calls}`);
    });

    await step("an unused version gets call limits and is disabled", async () => {
      const next = page.getByTestId("plugin-openai-0.2.0");
      await next.getByRole("button", { name: "Limits of openai 0.2.0" }).click();
      const dialog = page.getByRole("dialog", { name: "Limits of openai 0.2.0" });
      await dialog.getByLabel("Call timeout (ms)").fill("70000");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.getByText("Call timeout must be a whole number from 1 to 60,000.").waitFor();
      await dialog.getByLabel("Call timeout (ms)").fill("2000");
      await dialog.getByLabel("Memory (MiB)").fill("64");
      await dialog.getByRole("button", { name: "Save" }).click();
      await dialog.waitFor({ state: "hidden" });
      await next.getByText("2 s per call").waitFor();
      await next.getByText("64 MiB").waitFor();
      await next.getByRole("switch").click();
      await until(async () => (await next.getByTestId("plugin-status").textContent()) === "disabled", 5_000, "0.2.0 tagged disabled");
      const listed = (await adminCall(gateway, "GET", "/api/plugins")).find((p) => p.name === "openai" && p.version === "0.2.0");
      expect(!listed.enabled && listed.call_timeout_ms === 2000 && listed.memory_mib === 64, `0.2.0 is ${JSON.stringify(listed)}`);
      await shot(page, "plugins-1280");
    });
    await rolloutSteps({ step, page, gateway, expect, until, go, shot, adminCall, clientKey: () => clientKey, wasmFiles: wasmFiles(join(targetDir, "wasm-plugins")) });
  }

  await step("accounts are created, and deleted only after confirming", async () => {
    await go(page, "/users", "Users");
    await page.getByRole("button", { name: "Add account" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("User name").fill("alice");
    await dialog.getByLabel("Password").fill("short");
    await dialog.getByRole("button", { name: "Add account" }).click();
    await dialog.getByText("Passwords have at least 8 characters.").waitFor();
    await dialog.getByLabel("Password").fill("alice-pass-123");
    await dialog.getByRole("button", { name: "Add account" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("cell", { name: "alice", exact: true }).waitFor();
    await shot(page, "users-1280");
    await page.getByRole("button", { name: "Delete alice" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await page.getByRole("cell", { name: "alice", exact: true }).waitFor({ state: "detached" });
  });

  await step("dialogs work from the keyboard alone", async () => {
    await go(page, "/users", "Users");
    await page.getByRole("button", { name: "Add account" }).focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Add account" });
    await dialog.waitFor();
    // Focus starts inside the dialog; Tab walks its fields, Enter in a field submits.
    expect(await dialog.evaluate((d) => d.contains(document.activeElement)), "focus is not in the dialog");
    await dialog.getByLabel("User name").focus();
    await page.keyboard.type("carol");
    await page.keyboard.press("Tab");
    await page.keyboard.type("carol-pass-123");
    await page.keyboard.press("Enter");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("cell", { name: "carol", exact: true }).waitFor();
    // Escape cancels a confirmation and gives focus back to the button that opened it.
    const remove = page.getByRole("button", { name: "Delete carol" });
    await remove.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("alertdialog").waitFor();
    await page.keyboard.press("Escape");
    await page.getByRole("alertdialog").waitFor({ state: "hidden" });
    await until(
      () => remove.evaluate((b) => b === document.activeElement),
      2_000,
      "focus back on the delete button",
    ).catch(async (e) => {
      const active = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
      throw new Error(`${e.message}; focus is on ${active}`);
    });
    await page.getByRole("cell", { name: "carol", exact: true }).waitFor();
  });

  await step("a user account sees only its own pages and keys, and changes its password", async () => {
    const bob = await adminCall(gateway, "POST", "/api/users", { username: "bob", password: "bob-pass-1234", role: "user" });
    const providerIds = (await adminCall(gateway, "GET", "/api/providers")).map((p) => p.id);
    await adminCall(gateway, "PUT", `/api/users/${bob.id}/grants`, { provider_ids: providerIds });
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const p = await ctx.newPage();
      focus = p;
      const signIn = async (password, landing) => {
        await p.getByLabel("User name").fill("bob");
        await p.getByLabel("Password").fill(password);
        await p.getByRole("button", { name: "Sign in" }).click();
        await p.getByRole("heading", { level: 1, name: landing }).waitFor();
      };
      await p.goto(gateway.admin);
      await signIn("bob-pass-1234", "Dashboard");
      await p.getByText("Traffic of your client keys").waitFor();
      const stat = await p.getByTestId("stat-requests").textContent();
      expect(stat === "0", `bob sees ${stat} requests of other accounts`);
      const nav = await p.getByRole("navigation", { name: "Main" }).textContent();
      for (const hidden of ["Upstream Keys", "Audit Log", "Users"]) {
        expect(!nav.includes(hidden), `a user sees ${hidden} in the menu`);
      }
      await go(p, "/users", "Users");
      await p.getByText("This page is for admin accounts.").waitFor();
      await go(p, "/client-keys", "Client Keys");
      await p.getByRole("button", { name: "Create client key" }).first().click();
      const dialog = p.getByRole("dialog");
      expect((await dialog.getByText("Upstream key pool").count()) === 0, "a user is offered the upstream pool");
      expect((await dialog.getByText("Requests / minute").count()) === 0, "a user is offered limit fields");
      await dialog.getByLabel("Name").fill("bob-app");
      await dialog.getByRole("button", { name: "Create key" }).click();
      const created = p.getByRole("dialog", { name: "Client key created" });
      await created.getByTestId("new-client-key").waitFor();
      await created.getByRole("button", { name: "Done" }).click();
      await p.getByTestId("client-key-bob-app").waitFor();
      expect((await p.getByTestId("client-key-e2e-app").count()) === 0, "bob sees the admin's client key");
      await p.getByTestId("oauth-clients").getByText("No OAuth clients").waitFor();
      await p.getByRole("button", { name: "Change password" }).click();
      const change = p.getByRole("dialog", { name: "Change password" });
      await change.getByLabel("Current password").fill("bob-pass-1234");
      await change.getByLabel("New password").fill("bob-new-pass-5678");
      await change.getByLabel("Confirm password").fill("bob-new-pass-5678");
      await change.getByRole("button", { name: "Change password" }).click();
      await p.getByText("Password changed. Sign in with the new one.").waitFor();
      await signIn("bob-new-pass-5678", "Client Keys");
      await shot(p, "client-keys-as-user-1280");
    } catch (error) {
      await shot(focus, "FAILED-user-role").catch(() => {});
      throw error;
    } finally {
      await ctx.close();
    }
  });

  await step("the audit log lists changes with before and after", async () => {
    await go(page, "/audit", "Audit Log");
    const rows = page.getByTestId("audit-rows").locator("tr");
    await until(async () => (await rows.count()) >= 6, 5_000, "audit rows");
    // Names, not numbers; a creation lists what it set; sign-ins are there.
    await rows.filter({ hasText: "client key e2e-app" }).filter({ hasText: "create" }).filter({ hasText: "endpoint_classes" }).first().waitFor();
    await rows.filter({ hasText: "signed in via login" }).first().waitFor();
    await rows.filter({ hasText: "upstream key" }).first().click();
    await page.getByText("After", { exact: true }).first().waitFor();
    await shot(page, "audit-1280");
  });

  if (!oauthApi) {
    skip("an OAuth account is connected through the console", `POST /api/oauth/authorize answers ${oauthProbe.status}; the upstream OAuth API does not exist yet`);
  } else {
    await step("a provider's OAuth endpoints are overridden to the test authorization server", async () => {
      const { issuer } = await oauthServer;
      const anthropic = (await adminCall(gateway, "GET", "/api/providers")).find((p) => p.name === "anthropic");
      await adminCall(gateway, "PUT", `/api/providers/${anthropic.id}`, { base_url: mock.url });
      await go(page, "/providers", "Providers & Plugins");
      await page.getByRole("button", { name: "OAuth settings of anthropic" }).click();
      const dialog = page.getByRole("dialog", { name: "OAuth settings of anthropic" });
      await dialog.getByLabel("Authorize URL").fill(`${issuer}/authorize`);
      await dialog.getByLabel("Token URL").fill("token");
      await dialog.getByLabel("Client ID").fill("ai-proxy-e2e");
      await dialog.getByLabel("Scopes").fill("openid offline_access");
      await dialog.getByLabel("Extra parameters").fill("");
      await dialog.getByLabel("Redirect URI").fill("");
      await dialog.getByLabel("Request headers").fill("x-e2e-oauth: console");
      await dialog.getByRole("button", { name: "Save override" }).click();
      await dialog.getByText("Token URL must be a full URL").waitFor();
      await dialog.getByLabel("Token URL").fill(`${issuer}/token`);
      await shot(page, "provider-oauth-settings-1280");
      await dialog.getByRole("button", { name: "Save override" }).click();
      await dialog.waitFor({ state: "hidden" });
      await page.getByTestId("provider-anthropic").getByTestId("provider-oauth").getByText("OAuth (custom)").waitFor();
      const saved = (await adminCall(gateway, "GET", "/api/providers")).find((p) => p.name === "anthropic").oauth;
      expect(
        saved?.source === "override" && saved.token_url === `${issuer}/token` && saved.redirect_uri === null && saved.request_headers?.["x-e2e-oauth"] === "console",
        `oauth is ${JSON.stringify(saved)}`,
      );
    });

    await step("an OAuth key is created and connected through the sign-in page and /oauth/callback", async () => {
      await go(page, "/upstream-keys", "Upstream Keys");
      await page.getByRole("button", { name: "Add upstream key" }).click();
      const dialog = page.getByRole("dialog", { name: "Add upstream key" });
      await dialog.getByLabel("Provider").selectOption({ label: "anthropic" });
      await dialog.getByLabel("OAuth account").check();
      expect((await dialog.getByLabel("Secret", { exact: true }).count()) === 0, "an OAuth key is asked for a secret");
      await dialog.getByLabel("Name").fill("claude-e2e");
      await dialog.getByRole("button", { name: "Add key" }).click();
      // A new OAuth key goes straight to its sign-in.
      const connect = page.getByRole("dialog", { name: "Connect claude-e2e" });
      const link = connect.getByTestId("oauth-sign-in-link");
      await link.waitFor();
      const row = page.getByTestId("upstream-key-claude-e2e");
      await row.getByTestId("oauth-state").getByText("OAuth not connected").waitFor();
      // A pasted code with a state the gateway never issued is refused in words.
      await connect.getByLabel("Paste the callback URL or code").fill("some-code#not-a-state");
      await connect.getByRole("button", { name: "Connect" }).click();
      await connect.getByText(/This sign-in does not match a session of the gateway/).waitFor();
      await shot(page, "oauth-connect-dialog-1280");
      // The sign-in page opens in a tab and redirects to the console's callback page.
      const [tab] = await Promise.all([desktop.waitForEvent("page"), link.click()]);
      focus = tab;
      await tab.getByTestId("oauth-callback").getByText("claude-e2e is connected").waitFor({ timeout: 15_000 });
      expect(!new URL(tab.url()).search, `the code stays in the address bar: ${tab.url()}`);
      await shot(tab, "oauth-callback-1280");
      await tab.close();
      focus = null;
      // The first tab hears of it: the dialog closes and the key is connected.
      await connect.waitFor({ state: "hidden" });
      await row.getByTestId("oauth-state").getByText("OAuth connected").waitFor();
      await row.getByTestId("oauth-detail").getByText(/^token expires in /).waitFor();
      const key = (await adminCall(gateway, "GET", "/api/upstream-keys")).find((k) => k.name === "claude-e2e");
      expect(key.oauth?.state === "connected" && key.oauth.expires_at, `the key is ${JSON.stringify(key.oauth)}`);
      await shot(page, "upstream-keys-oauth-1280");
    });

    await step("a request through the OAuth key is proxied and logged; refresh and revoke work", async () => {
      const anthropic = (await adminCall(gateway, "GET", "/api/providers")).find((p) => p.name === "anthropic");
      const upstream = (await adminCall(gateway, "GET", "/api/upstream-keys")).find((k) => k.name === "claude-e2e");
      const created = await adminCall(gateway, "POST", "/api/client-keys", {
        name: "claude-app",
        provider_id: anthropic.id,
        upstream_key_ids: [upstream.id],
      });
      const r = await fetch(`${gateway.proxy}/v1/messages`, {
        method: "POST",
        headers: { "x-api-key": created.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 64, messages: [{ role: "user", content: "via oauth" }] }),
      });
      const text = await r.text();
      expect(r.status === 200, `the proxied request answered ${r.status}: ${text.slice(0, 300)}`);
      await go(page, "/logs", "Logs");
      await page.getByTestId("trace-rows").locator("tr").filter({ hasText: "claude-e2e" }).first().waitFor({ timeout: 10_000 });
      await shot(page, "logs-oauth-1280");
      await go(page, "/upstream-keys", "Upstream Keys");
      const row = page.getByTestId("upstream-key-claude-e2e");
      await row.getByRole("button", { name: "Refresh claude-e2e now" }).click();
      await page.getByRole("status").filter({ hasText: "claude-e2e: token refreshed" }).waitFor();
      await row.getByRole("button", { name: "Revoke claude-e2e" }).click();
      const confirm = page.getByRole("alertdialog");
      await confirm.getByText("Revoke claude-e2e?").waitFor();
      await confirm.getByRole("button", { name: "Revoke" }).click();
      await row.getByTestId("oauth-state").getByText("OAuth revoked").waitFor();
      await row.getByRole("button", { name: "Reconnect claude-e2e" }).waitFor();
      // A provider that sends back an error lands on the callback page too: it says so.
      await go(page, "/oauth/callback?error=access_denied&state=nope", "OAuth sign-in");
      await page.getByText("The account was not connected").waitFor();
      await page.getByText(/The provider reports that the sign-in was declined or cancelled/).waitFor();
      await shot(page, "oauth-callback-denied-1280");
    });
  }

  await step("a page whose code cannot be loaded says so and offers a reload", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, storageState: await desktop.storageState() });
    try {
      const p = await ctx.newPage();
      focus = p;
      await go(p, "/", "Dashboard");
      // As after an upgrade: the chunks this tab knows of are gone.
      await p.route(/\/assets\/chunk-[^/]+\.js$/, (route) => route.abort());
      await p.getByRole("link", { name: "Audit Log" }).click();
      await p.getByText("This part of the console could not be loaded.").waitFor();
      await shot(p, "chunk-failed-1280");
      await p.unroute(/\/assets\/chunk-[^/]+\.js$/);
      await p.getByRole("button", { name: "Reload the page" }).click();
      await p.getByTestId("audit-rows").waitFor();
    } finally {
      await ctx.close();
    }
  });

  await step("dark mode switches and is remembered", async () => {
    await go(page, "/", "Dashboard");
    await page.getByRole("button", { name: "Switch to dark mode" }).click();
    expect(await page.evaluate(() => document.documentElement.classList.contains("dark")), "no dark class");
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.classList.contains("dark")), "dark mode forgotten");
    await page.getByTestId("chart-requests").locator(".recharts-area-curve").first().waitFor();
    await shot(page, "dashboard-1280-dark");
    await go(page, "/logs", "Logs");
    await shot(page, "logs-1280-dark");
    // At 1280 px the key and plugin tables fit their cards.
    await go(page, "/providers", "Providers & Plugins");
    await noSidewaysTables(page, "/providers");
    await shot(page, "providers-1280-dark");
    await go(page, "/client-keys", "Client Keys");
    await noSidewaysTables(page, "/client-keys");
    await shot(page, "client-keys-1280-dark");
    await go(page, "/upstream-keys", "Upstream Keys");
    await noSidewaysTables(page, "/upstream-keys");
    await shot(page, "upstream-keys-1280-dark");
    await page.getByRole("button", { name: "Switch to light mode" }).click();
  });

  await step("the key pages' earlier addresses still land on them, under their one name", async () => {
    for (const [old, path, title] of [
      ["/provider-keys", "/upstream-keys", "Upstream Keys"],
      ["/user-keys", "/client-keys", "Client Keys"],
    ]) {
      await go(page, `${old}?from=bookmark`, title);
      const url = new URL(page.url());
      expect(url.pathname === path && url.search === "?from=bookmark", `${old} stayed at ${url.pathname}${url.search}, not ${path}`);
      const current = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: title });
      expect((await current.getAttribute("aria-current")) === "page", `the menu does not mark ${title} after ${old}`);
    }
    // The log's upstream key filter: upstream_key in its URL, the earlier provider_key still read.
    for (const search of ["?upstream_key=team-a", "?provider_key=team-a"]) {
      await go(page, `/logs${search}`, "Logs");
      await until(async () => (await page.getByLabel("Upstream key").inputValue()) === "team-a", 10_000, `the upstream key filter of /logs${search}`);
    }
  });

  await step("every page fits a 390 px screen, light and dark", async () => {
    const mobile = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      storageState: await desktop.storageState(),
    });
    const m = await mobile.newPage();
    const pages = [
      ["/", "Dashboard", "dashboard"],
      ["/logs", "Logs", "logs"],
      ["/upstream-keys", "Upstream Keys", "upstream-keys"],
      ["/client-keys", "Client Keys", "client-keys"],
      ["/providers", "Providers & Plugins", "providers"],
      ["/users", "Users", "users"],
      ["/audit", "Audit Log", "audit"],
      ["/oauth/callback", "OAuth sign-in", "oauth-callback"],
    ];
    for (const [path, title, name] of pages) {
      await go(m, path, title);
      const overflow = await m.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow <= 1, `${path} is ${overflow} px wider than the screen`);
      // Tables stack their rows on a phone: none hides columns off to the side.
      await noSidewaysTables(m, path);
      await shot(m, `${name}-390-light`);
    }
    await m.getByRole("button", { name: "Open menu" }).click();
    await m.getByRole("dialog", { name: "Menu" }).getByRole("link", { name: "Logs" }).waitFor();
    await shot(m, "menu-390");
    await m.getByRole("dialog", { name: "Menu" }).getByRole("link", { name: "Dashboard" }).click();
    await m.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await m.getByRole("button", { name: "Switch to dark mode" }).click();
    await m.getByTestId("chart-requests").locator(".recharts-area-curve").first().waitFor();
    await shot(m, "dashboard-390-dark");
    await go(m, "/logs", "Logs");
    await m.getByTestId("trace-cards").getByRole("button").first().click();
    await m.getByTestId("trace-detail").waitFor();
    await shot(m, "log-detail-390-dark");
    for (const [path, title, name] of [
      ["/providers", "Providers & Plugins", "providers"],
      ["/client-keys", "Client Keys", "client-keys"],
    ]) {
      await go(m, path, title);
      await shot(m, `${name}-390-dark`);
    }
    await mobile.close();
  }, 60_000);

  if (results.some((r) => r.name.startsWith("an unused version gets call limits") && r.ok)) {
    await step("an unused plugin version is deleted after confirming", async () => {
      await go(page, "/providers", "Providers & Plugins");
      const next = page.getByTestId("plugin-openai-0.2.0");
      await next.getByRole("button", { name: "Delete openai 0.2.0" }).click();
      const confirm = page.getByRole("alertdialog");
      await confirm.getByText("Delete openai 0.2.0?").waitFor();
      await confirm.getByRole("button", { name: "Delete" }).click();
      await next.waitFor({ state: "detached" });
      const left = (await adminCall(gateway, "GET", "/api/plugins")).filter((p) => p.name === "openai").map((p) => p.version);
      expect(left.join() === "0.1.0", `openai versions left: ${left}`);
    });
  }

  await teamSteps({ ...bad, mockUrl: mock.url });
  await accessibilitySteps(bad);

  await step("an ended session sends the operator back to the login page", async () => {
    await go(page, "/client-keys", "Client Keys");
    await desktop.addCookies([{ name: "aip_session", value: "expired.session.token", url: gateway.admin }]);
    await page.getByRole("link", { name: "Logs" }).click();
    await page.getByText("Your session has ended. Please sign in again.").waitFor();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    await shot(page, "session-ended-1280");
  });

  await step("no uncaught errors in the page", async () => {
    expect(consoleErrors.length === 0, `uncaught: ${consoleErrors.join("; ")}`);
  });
} finally {
  await browser.close().catch(() => {});
  killAll();
  clearTimeout(overall);
}

const failed = results.filter((r) => !r.ok);
const skipped = results.filter((r) => r.skipped);
console.log(
  `e2e: ${results.length - failed.length - skipped.length} passed, ${failed.length} failed, ${skipped.length} skipped in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${shots}`,
);
process.exit(failed.length ? 1 : 0);
