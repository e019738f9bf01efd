// Browser tests of the Teams page (issue 19): an operator creates a team,
// adds two members and two client keys, sets a monthly budget, and sees
// the month's spend against it after requests through the proxy; the
// page passes axe-core. `t` carries run.mjs's helpers and the running
// gateway and mock. Run alone with `node e2e/teams.mjs` (same binaries
// and built UI as run.mjs).
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { axeViolations, describeViolations } from "./a11y.mjs";

const TEAM = "research";
const MEMBERS = ["ana-budget", "ben-budget"];
const KEYS = ["budget-app-1", "budget-app-2"];

/** Upstream key, client keys and accounts the steps use (through the API). */
async function setUp(t) {
  const { gateway, adminCall } = t;
  const providers = await adminCall(gateway, "GET", "/api/providers");
  const openai = providers.find((p) => p.name === "openai");
  await adminCall(gateway, "PUT", `/api/providers/${openai.id}`, { base_url: t.mockUrl });
  const upstream = await adminCall(gateway, "POST", "/api/upstream-keys", {
    provider_id: openai.id,
    name: "budget-upstream",
    secret: "sk-e2e-budget",
  });
  const secrets = {};
  for (const name of KEYS) {
    const key = await adminCall(gateway, "POST", "/api/client-keys", {
      name,
      provider_id: openai.id,
      upstream_key_ids: [upstream.id],
    });
    secrets[name] = key.key;
  }
  for (const username of MEMBERS) {
    await adminCall(gateway, "POST", "/api/users", { username, password: "budget-pass-123", role: "user" });
  }
  return secrets;
}

/** One chat request through the proxy with `key`; resolves to the status. */
async function chat(t, key) {
  const response = await fetch(`${t.gateway.proxy}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

export async function teamSteps(t) {
  const { step, page, expect, until, go, shot } = t;
  let secrets = null;
  await step("a team is created, given members and keys, and a monthly budget in the console", async () => {
    secrets = await setUp(t);
    await go(page, "/teams", "Teams");
    await page.getByRole("button", { name: "Add team" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Team name").fill(TEAM);
    await dialog.getByRole("button", { name: "Add team" }).click();
    await dialog.waitFor({ state: "hidden" });
    const card = page.getByTestId(`team-${TEAM}`);
    await card.getByText("no monthly budget").waitFor();
    await shot(page, "teams-new-1280");
    for (const name of MEMBERS) {
      await card.getByLabel("Member to add").selectOption({ label: name });
      await card.getByRole("button", { name: "Add member" }).click();
      await card.getByRole("list").first().getByText(name).waitFor();
    }
    for (const name of KEYS) {
      await card.getByLabel("Key to add").selectOption({ label: name });
      await card.getByRole("button", { name: "Add key" }).click();
      await card.getByRole("region", { name: `Keys of ${TEAM}` }).getByText(name, { exact: true }).waitFor();
    }
    await card.getByText("2 members · 2 keys").waitFor();
    await card.getByRole("button", { name: "Set budget" }).click();
    const budget = page.getByRole("dialog", { name: `Budget of ${TEAM}` });
    await budget.getByLabel("Monthly budget (USD)").fill("-3");
    await budget.getByRole("button", { name: "Save budget" }).click();
    await budget.getByText("Monthly budget (USD) must be an amount, 0 or more.").waitFor();
    await budget.getByLabel("Monthly budget (USD)").fill("5");
    await budget.getByRole("button", { name: "Save budget" }).click();
    await budget.waitFor({ state: "hidden" });
    await card.getByTestId("team-spend").getByText("$5.00").waitFor();
    const stored = await t.adminCall(t.gateway, "GET", "/api/teams");
    const team = stored.find((x) => x.name === TEAM);
    expect(team.members.length === 2 && team.keys.length === 2, `stored team: ${JSON.stringify(team)}`);
    await shot(page, "teams-budget-set-1280");
  });

  await step("the team's spend this month shows against its budget", async () => {
    expect(secrets, "the team was not set up");
    for (const name of KEYS) {
      const status = await chat(t, secrets[name]);
      expect(status === 200, `${name} answered ${status}`);
    }
    // The budget counters settle in the background, the report reads the request log.
    await until(
      async () => {
        const report = await t.adminCall(t.gateway, "GET", "/api/stats/budgets");
        const row = report.teams.find((x) => x.name === TEAM);
        const line = row?.budget.lines.find((l) => l.limit === "team_cost_per_month");
        return row?.spend.requests === 2 && line?.used > 0;
      },
      10_000,
      "two requests and their cost in the team's report",
    );
    await go(page, "/teams", "Teams");
    const meter = page.getByTestId(`team-${TEAM}`).getByTestId("team-spend");
    await meter.getByText("2 requests").waitFor();
    const words = await meter.locator("p").first().textContent();
    expect(/^Spent \$0\.0000\d+ of \$5\.00 in \d{4}-\d{2}$/.test(words), `spend reads: ${words}`);
    await page.getByRole("progressbar", { name: "Monthly budget used" }).waitFor();
    // Below the cards: the month's spend per user (budget beside) and per provider.
    await page.getByRole("region", { name: "By provider" }).getByRole("cell", { name: "openai", exact: true }).waitFor();
    await page.getByRole("region", { name: "By user" }).getByRole("cell", { name: "admin", exact: true }).waitFor();
    await shot(page, "teams-spend-1280");
    const violations = await axeViolations(page);
    expect(violations.length === 0, describeViolations("/teams", violations));
  });
}

/** Standalone: the gateway, the mock and Chromium for these steps only. */
async function main() {
  const { chromium } = await import("playwright-core");
  const { ADMIN_PASSWORD, adminCall, killAll, startGateway, startMock, withTimeout } = await import("./harness.mjs");
  const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const target = resolve(web, "..", process.env.CARGO_TARGET_DIR || "target");
  const shots = resolve(process.env.AI_PROXY_E2E_OUT || join(web, "e2e-out"), "screenshots");
  mkdirSync(shots, { recursive: true });
  for (const path of [join(target, "debug/ai-proxy"), join(target, "debug/mock-upstream"), join(web, "dist/index.html")]) {
    if (!existsSync(path)) throw new Error(`missing ${path}`);
  }
  const mock = await startMock(join(target, "debug/mock-upstream"));
  const gateway = await startGateway(join(target, "debug/ai-proxy"), join(web, "dist"));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  let failed = 0;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const shot = (p, name) => p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    const step = async (name, fn) => {
      try {
        await withTimeout(fn(), 60_000, name);
        console.log(`ok    ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL  ${name}\n      ${error.message}`);
        await shot(page, `FAILED-${name.replace(/\W+/g, "-")}`).catch(() => {});
      }
    };
    const expect = (c, m) => {
      if (!c) throw new Error(m);
    };
    const until = async (fn, ms, what) => {
      const deadline = Date.now() + ms;
      for (;;) {
        if (await fn().catch(() => null)) return;
        if (Date.now() > deadline) throw new Error(`not true within ${ms} ms: ${what}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    const go = async (p, path, title) => {
      await p.goto(`${gateway.admin}${path}`);
      await p.getByRole("heading", { level: 1, name: title }).waitFor({ timeout: 10_000 });
    };
    await page.goto(gateway.admin);
    await page.getByLabel("User name").fill("admin");
    await page.getByLabel("Password").fill(ADMIN_PASSWORD);
    await page.getByLabel("Password").press("Enter");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    await teamSteps({ step, page, expect, until, go, shot, adminCall, gateway, mockUrl: mock.url });
  } finally {
    await browser.close().catch(() => {});
    killAll();
  }
  console.log(`teams e2e: ${failed ? `${failed} failed` : "passed"}; screenshots in ${shots}`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
