import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { assertStreamUsage } from "ai-proxy-plugin-sdk/src/testing.js";
import { parseStream } from "ai-proxy-plugin-sdk";

import { ENDPOINTS, provider, streamControl } from "../src/provider.js";

const fixture = (name) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));
const bytes = (text) => new TextEncoder().encode(text);
const text = (b) => new TextDecoder().decode(b);
const usage = (input, output, cached, reasoning) => ({
  inputTokens: input,
  outputTokens: output,
  cachedInputTokens: cached,
  cacheWriteTokens: 0,
  reasoningTokens: reasoning,
});
const post = (path) => ({ method: "POST", path, headers: [{ name: "content-type", value: "application/json" }] });

test("info names deepseek with a bearer key and a models probe", () => {
  const info = provider.info();
  assert.equal(info.name, "deepseek");
  assert.equal(info.defaultBaseUrl, "https://api.deepseek.com");
  assert.deepEqual(info.credential, { tag: "bearer" });
  assert.equal(info.healthProbe.path, "/models");
  assert.equal(info.oauth, null);
});

test("inspect reads model and stream from the body on both path styles", () => {
  const body = bytes('{"model":"deepseek-reasoner","stream":true,"messages":[]}');
  for (const path of ["/chat/completions", "/v1/chat/completions"]) {
    assert.deepEqual(provider.inspect(post(path), body), { model: "deepseek-reasoner", stream: true });
  }
  assert.deepEqual(provider.inspect({ method: "GET", path: "/models", headers: [] }, new Uint8Array()), {
    model: null,
    stream: false,
  });
});

test("inspect refuses broken JSON and a non-string model as bad requests", () => {
  assert.throws(() => provider.inspect(post("/chat/completions"), bytes('{"model":')), { tag: "bad-request" });
  assert.throws(() => provider.inspect(post("/chat/completions"), bytes('{"model":["x"]}')), { tag: "bad-request" });
});

test("prepare sets the bearer key once and keeps path and other headers", () => {
  const head = post("/v1/chat/completions?beta=1");
  head.headers.push({ name: "Authorization", value: "Bearer client" }, { name: "x-trace", value: "t" });
  const out = provider.prepare(head, bytes('{"model":"deepseek-chat"}'), "PLACEHOLDER");
  assert.equal(out.path, "/v1/chat/completions?beta=1");
  assert.deepEqual(
    out.headers.filter((h) => h.name.toLowerCase() === "authorization"),
    [{ name: "authorization", value: "Bearer PLACEHOLDER" }],
  );
  assert.ok(out.headers.some((h) => h.name === "x-trace"));
  assert.equal(out.body, null, "an unstreamed request is sent as is");
});

test("prepare asks streamed chat for usage and keeps every other byte", () => {
  const out = provider.prepare(post("/chat/completions"), bytes('{"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"你好"}]}'), "K");
  assert.equal(
    text(out.body),
    '{"stream_options":{"include_usage":true},"model":"deepseek-chat","stream":true,"messages":[{"role":"user","content":"你好"}]}',
  );
});

test("prepare refuses paths DeepSeek does not serve", () => {
  assert.throws(() => provider.prepare(post("/v1beta/models/x:generateContent"), bytes("{}"), "K"), { tag: "unsupported" });
});

test("body usage reads the prompt cache hit tokens", () => {
  assert.deepEqual(provider.bodyUsage(fixture("chat_completion.json")), usage(1516, 23, 1408, 0));
});

test("body usage reads reasoner reasoning tokens", () => {
  assert.deepEqual(provider.bodyUsage(fixture("reasoner_completion.json")), usage(18, 412, 0, 389));
});

test("OpenAI-style cached tokens count when the DeepSeek fields are absent", () => {
  const body = bytes('{"usage":{"prompt_tokens":50,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":20}}}');
  assert.deepEqual(provider.bodyUsage(body), usage(50, 5, 20, 0));
});

test("error and non-JSON bodies have no usage", () => {
  assert.equal(provider.bodyUsage(fixture("error_insufficient_balance.json")), null);
  assert.equal(provider.bodyUsage(bytes("<html>502</html>")), null);
  assert.equal(provider.bodyUsage(new Uint8Array()), null);
});

test("stream usage comes from the final chunk in any split, keep-alives skipped", () => {
  assertStreamUsage(provider.StreamParser, fixture("chat_stream.sse"), usage(64, 7, 0, 0));
});

test("a stream without a usage chunk reports none, and a cut one keeps nothing partial", () => {
  assertStreamUsage(provider.StreamParser, bytes('data: {"choices":[],"usage":null}\n\ndata: [DONE]\n\n'), null);
  const stream = fixture("chat_stream.sse");
  assert.equal(parseStream(provider.StreamParser, [stream.subarray(0, stream.length - 40)]), null);
});

test("feed returns the usage only when a chunk changed it", () => {
  const parser = new provider.StreamParser();
  assert.equal(parser.feed(bytes('data: {"usage":null}\n\n')), null);
  assert.deepEqual(parser.feed(bytes('data: {"usage":{"prompt_tokens":3,"completion_tokens":1}}\n\n')), usage(3, 1, 0, 0));
  assert.equal(parser.feed(bytes("data: [DONE]\n\n")), null);
  assert.deepEqual(parser.finish(), usage(3, 1, 0, 0));
});

test("cost bills cache hits at a tenth of the input price", () => {
  // 600 miss * $0.28 + 400 hit * $0.028 + 10 out * $0.42 per Mtok, in nano-USD.
  const got = provider.cost("deepseek-chat", usage(1000, 10, 400, 0), provider.defaultPrices());
  assert.equal(got, 168_000 + 11_200 + 4_200);
  assert.equal(provider.cost("gpt-4o", usage(1, 1, 0, 0), provider.defaultPrices()), null);
});

test("classify: balance is quota, auth, throttling with retry-after, bad params, overload", () => {
  const h = (name, value) => [{ name, value }];
  assert.deepEqual(provider.classify(402, [], fixture("error_insufficient_balance.json")), { tag: "quota-exhausted" });
  assert.deepEqual(provider.classify(400, [], bytes('{"error":{"message":"Insufficient Balance"}}')), { tag: "quota-exhausted" });
  assert.deepEqual(provider.classify(401, [], bytes('{"error":{"message":"Authentication Fails (no such user)"}}')), { tag: "auth-invalid" });
  assert.deepEqual(provider.classify(429, h("retry-after", "4"), new Uint8Array()), { tag: "rate-limited", val: 4 });
  assert.deepEqual(provider.classify(422, [], bytes('{"error":{"message":"Invalid max_tokens value"}}')), { tag: "bad-request" });
  assert.deepEqual(provider.classify(503, [], bytes("Server overloaded")), { tag: "server-error" });
});

test("endpoints name every DeepSeek path with a class the WIT knows", () => {
  const classes = new Set(["inference", "embeddings", "models", "token-counting", "files", "batches", "fine-tuning", "other"]);
  for (const endpoint of ENDPOINTS) {
    assert.ok(classes.has(endpoint.class), JSON.stringify(endpoint));
    assert.match(endpoint.method, /^[A-Z]+$|^\*$/);
    assert.ok(endpoint.path.startsWith("/"));
  }
  const chat = ENDPOINTS.find((e) => e.path === "/chat/completions");
  assert.equal(chat.class, "inference");
  assert.equal(ENDPOINTS.find((e) => e.path === "/user/balance").class, "other");
});

test("a stream cut after its first events ends like one at its output limit, with the usage so far", () => {
  const stream = fixture("chat_stream.sse");
  const parser = new provider.StreamParser();
  const cut = text(stream).indexOf("data:", text(stream).indexOf("你好"));
  parser.feed(stream.subarray(0, new TextEncoder().encode(text(stream).slice(0, cut)).length));
  const end = text(streamControl.terminalEvent(parser, "quota-exhausted"));
  const events = end.split("\n\n").filter((e) => e.length > 0);
  assert.equal(events.at(-1), "data: [DONE]");
  const [finish, usageChunk] = events.slice(0, 2).map((e) => JSON.parse(e.slice("data: ".length)));
  assert.equal(finish.choices[0].finish_reason, "length");
  assert.equal(finish.id, "4f1f7f9e-2a7c-4c53-9f0a-1c2f6b1c9d11");
  assert.equal(finish.model, "deepseek-chat");
  assert.deepEqual(usageChunk.choices, []);
  assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
  // The running estimate: "你好 — " is 11 bytes of generated text, 3 tokens at 4 bytes a token.
  assert.equal(usageChunk.usage.completion_tokens, 3);
  // The cut stream reads as a whole stream with usage.
  const reread = parseStream(provider.StreamParser, [stream.subarray(0, 0), new TextEncoder().encode(text(stream).slice(0, cut) + end)]);
  assert.notEqual(reread, null);
});

test("a stream that already sent [DONE] is not ended twice; an unknown one cannot be ended", () => {
  const done = new provider.StreamParser();
  done.feed(fixture("chat_stream.sse"));
  assert.equal(streamControl.terminalEvent(done, "quota-exhausted").length, 0);
  const other = new provider.StreamParser();
  other.feed(bytes('data: {"object":"something.else"}\n\n'));
  assert.equal(streamControl.terminalEvent(other, "quota-exhausted").length, 0);
  const empty = new provider.StreamParser();
  assert.equal(text(streamControl.terminalEvent(empty, "quota-exhausted")), "data: [DONE]\n\n");
});
