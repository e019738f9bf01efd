import assert from "node:assert/strict";
import { test } from "node:test";

import { decode, decodeSlowly, encode } from "../src/utf8.js";

const SAMPLES = ["", "plain ascii", "à vous — ça va ? 👋", "中文 (DeepSeek)", "\u{10ffff}\u0000"];

test("decode agrees with TextDecoder on valid text", () => {
  for (const text of SAMPLES) {
    assert.equal(decode(new TextEncoder().encode(text)), text);
  }
});

test("the byte-by-byte decoder agrees with TextDecoder on valid text", () => {
  for (const text of SAMPLES) {
    assert.equal(decodeSlowly(new TextEncoder().encode(text)), text);
  }
});

test("decode replaces invalid sequences as TextDecoder does", () => {
  const cases = [
    [0xff],
    [0xc3],
    [0xe2, 0x82],
    [0xed, 0xa0, 0x80],
    [0xf0, 0x9f, 0x91, 0x41],
    [0xc0, 0xaf, 0x41],
    [0xf4, 0x90, 0x80, 0x80],
  ];
  for (const bytes of cases) {
    const input = new Uint8Array(bytes);
    assert.equal(decode(input), new TextDecoder().decode(input), JSON.stringify(bytes));
    const framed = new Uint8Array([0x61, ...bytes, 0xc3, 0xa9]);
    assert.equal(decode(framed), new TextDecoder().decode(framed), `framed ${JSON.stringify(bytes)}`);
  }
});

test("decode handles text longer than one chunk of code units", () => {
  const text = "é".repeat(20000) + "x".repeat(20000);
  assert.equal(decode(new TextEncoder().encode(text)), text);
});

test("encode agrees with TextEncoder, lone surrogates included", () => {
  for (const text of [...SAMPLES, "a\ud800b", "\udc00"]) {
    assert.deepEqual(encode(text), new TextEncoder().encode(text));
  }
});
