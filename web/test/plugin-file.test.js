import { describe, expect, it } from "vitest";
import { MAX_PLUGIN_BYTES, pluginForm, wasmFileProblem } from "../src/lib/plugin-file.ts";

const wasm = (name = "p.wasm") => new File([new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])], name);

describe("wasmFileProblem", () => {
  it("accepts a .wasm file with the WebAssembly header", async () => {
    expect(await wasmFileProblem(wasm())).toBeNull();
  });
  it("names a missing, misnamed, empty or non-wasm file", async () => {
    expect(await wasmFileProblem(undefined)).toMatch(/Choose/);
    expect(await wasmFileProblem(new File(["x"], "p.zip"))).toMatch(/not a \.wasm/);
    expect(await wasmFileProblem(new File([], "p.wasm"))).toMatch(/empty/);
    expect(await wasmFileProblem(new File(["PK\u0003\u0004"], "p.wasm"))).toMatch(/not WebAssembly/);
  });
  it("refuses files over the limit without reading them", async () => {
    const big = { name: "big.wasm", size: MAX_PLUGIN_BYTES + 1, slice: () => { throw new Error("read"); } };
    expect(await wasmFileProblem(big)).toMatch(/larger than 32 MiB/);
  });
});

describe("pluginForm", () => {
  it("puts the file under 'file'", () => {
    const form = pluginForm(wasm("mine.wasm"));
    expect(form.get("file").name).toBe("mine.wasm");
  });
});
