// Starts the real gateway and the mock upstream for the browser tests:
// free ports, a temporary data directory, readiness waits with deadlines,
// and a cleanup that kills both on every exit path.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ADMIN_PASSWORD = "e2e-admin-pass-123";

const children = new Set();
const cleanups = [];

export function killAll() {
  for (const child of children) {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  children.clear();
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      // Best effort.
    }
  }
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
process.on("exit", killAll);

/** A port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on this local port. */
function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Rejects after `ms` with `what` in the message. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function start(binary, args, env, name) {
  const child = spawn(binary, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let log = "";
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("exit", () => children.delete(child));
  return { child, log: () => log, name };
}

/** The mock upstream; resolves to its base URL once it accepts connections. */
export async function startMock(binary) {
  const proc = start(binary, ["--port", "0", "--no-record"], {}, "mock-upstream");
  const url = await withTimeout(
    new Promise((resolve, reject) => {
      let out = "";
      proc.child.stdout.on("data", (chunk) => {
        out += chunk.toString();
        const m = /listening on (\S+)/.exec(out);
        if (m) resolve(`http://${m[1]}`);
      });
      proc.child.on("exit", (code) => reject(new Error(`mock-upstream exited with ${code}: ${proc.log()}`)));
    }),
    15_000,
    "mock-upstream to listen",
  );
  return { ...proc, url };
}

/** The gateway on free ports with a fresh data directory, serving `webDir`. */
export async function startGateway(binary, webDir) {
  const dataDir = mkdtempSync(join(tmpdir(), "ai-proxy-e2e-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const proc = start(
    binary,
    ["serve"],
    {
      AI_PROXY_DATA_DIR: dataDir,
      AI_PROXY_ADMIN_PASSWORD: ADMIN_PASSWORD,
      AI_PROXY_PROXY_ADDR: `127.0.0.1:${proxyPort}`,
      AI_PROXY_ADMIN_ADDR: `127.0.0.1:${adminPort}`,
      AI_PROXY_EGRESS_ALLOW: "127.0.0.0/8",
      AI_PROXY_PROXY_THREADS: "2",
      AI_PROXY_PLUGIN_INSTANCES: "64",
      AI_PROXY_TRACE_FLUSH_MS: "20",
      AI_PROXY_WEB_DIR: webDir,
      RUST_LOG: "info,pingora=warn",
    },
    "gateway",
  );
  const admin = `http://127.0.0.1:${adminPort}`;
  const proxy = `http://127.0.0.1:${proxyPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`gateway exited with ${proc.child.exitCode}:\n${proc.log()}`);
    try {
      // The proxy port is only connected to: a request would leave a trace row.
      const [a, p] = await Promise.all([fetch(`${admin}/api/health`), accepts(proxyPort)]);
      if (a.ok && p) break;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`gateway not ready within 60 s:\n${proc.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { ...proc, admin, proxy, dataDir };
}

/** An admin API call with Basic credentials; throws on a non-2xx answer. */
export async function adminCall(gateway, method, path, body) {
  const response = await fetch(`${gateway.admin}${path}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString("base64")}`,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * The test OAuth 2.0 server of tests/oauth (oauth2-mock-server: PKCE,
 * refresh tokens; its /authorize redirects straight back with a code).
 * tests/oauth/run.sh installs its packages on first use. Resolves to its
 * issuer as http://127.0.0.1:PORT once it prints READY.
 */
export async function startOAuthServer(repo) {
  const [port, control] = [await freePort(), await freePort()];
  const proc = start(join(repo, "tests/oauth/run.sh"), [String(port), String(control)], {}, "oauth-server");
  const issuer = await withTimeout(
    new Promise((resolve, reject) => {
      let out = "";
      proc.child.stdout.on("data", (chunk) => {
        out += chunk.toString();
        const m = /READY (\S+)/.exec(out);
        if (m) resolve(m[1].replace("//localhost:", "//127.0.0.1:"));
      });
      proc.child.on("exit", (code) => reject(new Error(`the OAuth server exited with ${code}: ${proc.log()}`)));
    }),
    120_000,
    "the OAuth server to print READY",
  );
  return { ...proc, issuer, control: `http://127.0.0.1:${control}` };
}
