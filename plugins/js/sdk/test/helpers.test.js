import assert from "node:assert/strict";
import { test } from "node:test";

import { byStatus, cost, findPrice, openai, price, queryParam, retryAfter, setHeader, usd } from "../src/index.js";

const h = (name, value) => [{ name, value }];
const bytes = (text) => new TextEncoder().encode(text);
const text = (b) => new TextDecoder().decode(b);
const post = (path) => ({ method: "POST", path, headers: h("content-type", "application/json") });

test("headers are replaced case-insensitively", () => {
  const out = setHeader([{ name: "Authorization", value: "a" }, { name: "x", value: "1" }], "authorization", "b");
  assert.deepEqual(out, [{ name: "x", value: "1" }, { name: "authorization", value: "b" }]);
});

test("query parameters match whole names", () => {
  assert.equal(queryParam("/x?xalt=1&alt=sse", "alt"), "sse");
  assert.equal(queryParam("/x", "alt"), null);
});

test("statuses map to error classes with retry-after", () => {
  assert.deepEqual(byStatus(429, h("retry-after", "7")), { tag: "rate-limited", val: 7 });
  assert.deepEqual(byStatus(429, []), { tag: "rate-limited", val: null });
  assert.deepEqual(byStatus(401, []), { tag: "auth-invalid" });
  assert.deepEqual(byStatus(402, []), { tag: "quota-exhausted" });
  assert.deepEqual(byStatus(404, []), { tag: "bad-request" });
  assert.deepEqual(byStatus(503, []), { tag: "server-error" });
  assert.equal(retryAfter(h("Retry-After-Ms", "1500")), 2);
  assert.equal(retryAfter(h("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")), null);
});

test("longest price prefix wins and cached tokens get their own rate", () => {
  const prices = [price("gpt-4o", 2_500_000, 10_000_000, 1_250_000), price("gpt-4o-mini", 150_000, 600_000)];
  assert.equal(findPrice("gpt-4o-mini-2024", prices).model, "gpt-4o-mini");
  assert.equal(findPrice("claude", prices), null);
  const usage = { inputTokens: 1e6, cachedInputTokens: 4e5, outputTokens: 1e5, cacheWriteTokens: 0, reasoningTokens: 0 };
  assert.equal(cost("gpt-4o", usage, prices), 3_000_000_000);
  assert.equal(cost("nope", usage, prices), null);
});

test("prices are micro-USD per million tokens, usd() converts dollars", () => {
  assert.deepEqual(price("m", 2_500_000, 10_000_000), { model: "m", input: 2_500_000, output: 10_000_000, cachedInput: null, cacheWrite: null });
  assert.equal(usd(2.5), 2_500_000);
  assert.equal(usd(0.075), 75_000);
  assert.equal(usd(0.000_000_4), 0);
  assert.equal(usd(-1), 0);
  assert.equal(usd(Number.NaN), 0);
});

test("cost stays exact past 2^53 micro-tokens", () => {
  const usage = { inputTokens: 4e9, cachedInputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
  const prices = [{ model: "m", input: 3_000_001, output: 0, cachedInput: null, cacheWrite: null }];
  assert.equal(cost("m", usage, prices), 12_000_004_000_000);
});

test("openai inspect reads model and stream, refuses a non-string model", () => {
  assert.deepEqual(openai.inspect(post("/v1/chat/completions"), bytes('{"model":"m","stream":true}')), { model: "m", stream: true });
  assert.deepEqual(openai.inspect({ method: "GET", path: "/v1/models", headers: [] }, new Uint8Array()), { model: null, stream: false });
  assert.throws(() => openai.inspect(post("/x"), bytes('{"model":4}')), { tag: "bad-request" });
  assert.throws(() => openai.inspect(post("/x"), bytes("{")), { tag: "bad-request", val: "request body is not valid JSON" });
  const multipart = { method: "POST", path: "/x", headers: h("content-type", "multipart/form-data") };
  assert.deepEqual(openai.inspect(multipart, bytes("--x")), { model: null, stream: false });
});

test("stream usage is spliced in, merged into options, or left alone", () => {
  const chat = post("/v1/chat/completions");
  assert.equal(
    text(openai.askForStreamUsage(chat, bytes('{"model":"é","stream":true}'))),
    '{"stream_options":{"include_usage":true},"model":"é","stream":true}',
  );
  assert.equal(text(openai.askForStreamUsage(chat, bytes(' { "stream": true } '))).trim().startsWith('{"stream_options"'), true);
  const merged = JSON.parse(text(openai.askForStreamUsage(chat, bytes('{"stream":true,"stream_options":{"a":1,"include_usage":false}}'))));
  assert.deepEqual(merged.stream_options, { a: 1, include_usage: true });
  assert.equal(openai.askForStreamUsage(chat, bytes('{"stream":false}')), null);
  assert.equal(openai.askForStreamUsage(chat, bytes('{"stream":true,"stream_options":{"include_usage":true}}')), null);
  assert.equal(openai.askForStreamUsage(post("/v1/responses"), bytes('{"stream":true}')), null);
});

test("usage of either shape is read, anything else is null", () => {
  const chat = { prompt_tokens: 9, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } };
  assert.deepEqual(openai.usageFromObject(chat), {
    inputTokens: 9, outputTokens: 4, cachedInputTokens: 2, cacheWriteTokens: 0, reasoningTokens: 0,
  });
  const responses = { input_tokens: 9, output_tokens: 4, output_tokens_details: { reasoning_tokens: 3 } };
  assert.equal(openai.usageFromObject(responses).reasoningTokens, 3);
  assert.equal(openai.usageFromObject({ type: "duration", seconds: 3 }), null);
  assert.equal(openai.usageFromBody(bytes("<html>")), null);
  assert.equal(openai.usageFromBody(bytes("null")), null);
});

test("a large body is scanned for its top-level members, not parsed", async () => {
  const { topLevelFields, LARGE_BODY_BYTES } = await import("../src/scan.js");
  const doc = bytes('{"messages":[{"model":"inner","x":"]}\\"{"}],"model" : "gpt-4o","stream":true,"n":[1,[2]],"s":"a,b"}');
  const found = topLevelFields(doc, ["model", "stream", "n", "s", "missing"]);
  const at = (i) => text(doc.subarray(found[i][0], found[i][1]));
  assert.equal(at(0), '"gpt-4o"');
  assert.equal(at(1), "true");
  assert.equal(at(2), "[1,[2]]");
  assert.equal(at(3), '"a,b"');
  assert.equal(found[4], null);
  assert.equal(topLevelFields(bytes("[1,2]"), ["model"]), null);

  const zeros = `{"model":"gpt-4o-mini","messages":[${"0,".repeat(3_000_000)}0],"stream":true}`;
  const big = bytes(zeros);
  assert.ok(big.length > LARGE_BODY_BYTES);
  assert.deepEqual(openai.inspect(post("/v1/chat/completions"), big), { model: "gpt-4o-mini", stream: true });
  const asked = text(openai.askForStreamUsage(post("/v1/chat/completions"), big));
  assert.ok(asked.startsWith('{"stream_options":{"include_usage":true},"model"'));
  assert.equal(asked.length, zeros.length + '"stream_options":{"include_usage":true},'.length);
  const withOptions = bytes(`{"stream":true,"stream_options":{"x":1},"messages":[${"0,".repeat(600_000)}0]}`);
  const replaced = text(openai.askForStreamUsage(post("/v1/chat/completions"), withOptions));
  assert.ok(replaced.startsWith('{"stream":true,"stream_options":{"x":1,"include_usage":true},"messages"'));
});
