import assert from "node:assert/strict";
import { test } from "node:test";

import { placeCredential, setQueryParam } from "../src/index.js";

const head = (path, headers = []) => ({ method: "POST", path, headers });

test("a bearer credential replaces the client's authorization", () => {
  const out = placeCredential({ tag: "bearer" }, head("/v2/chat", [{ name: "Authorization", value: "Bearer client" }]), "K");
  assert.deepEqual(out, { path: "/v2/chat", headers: [{ name: "authorization", value: "Bearer K" }] });
});

test("a named header holds the bare credential", () => {
  const out = placeCredential({ tag: "header", val: "x-api-key" }, head("/v1/messages", [{ name: "x-api-key", value: "c" }]), "K");
  assert.deepEqual(out.headers, [{ name: "x-api-key", value: "K" }]);
});

test("a query parameter replaces the client's one and keeps the others", () => {
  const out = placeCredential({ tag: "query", val: "key" }, head("/v1beta/models/m:x?alt=sse&key=c"), "K");
  assert.equal(out.path, "/v1beta/models/m:x?alt=sse&key=K");
  assert.equal(setQueryParam("/v1/x", "key", "K"), "/v1/x?key=K");
});

test("an unknown style is the plugin's bug, not the client's", () => {
  assert.throws(() => placeCredential({ tag: "cookie" }, head("/"), "K"), (e) => e.tag === "internal");
});
