// Checks a plugin file in the browser before uploading it, so an obvious
// mistake (a .zip, an empty file) is named at once. The gateway still
// validates the component fully.

/** Largest plugin file the console will send. */
export const MAX_PLUGIN_BYTES = 32 * 1024 * 1024;

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Resolves to null for a plausible WebAssembly file, else words saying why not. */
export async function wasmFileProblem(file: File | null | undefined): Promise<string | null> {
  if (!file) return "Choose a .wasm file.";
  if (!/\.wasm$/i.test(file.name)) return `${file.name} is not a .wasm file.`;
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > MAX_PLUGIN_BYTES) return `${file.name} is larger than ${MAX_PLUGIN_BYTES / 1024 / 1024} MiB.`;
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  if (!WASM_MAGIC.every((b, i) => head[i] === b)) return `${file.name} is not WebAssembly (it lacks the \\0asm header).`;
  return null;
}

/** The multipart body of POST /api/plugins: the component under "file". */
export function pluginForm(file: File): FormData {
  const form = new FormData();
  form.append("file", file, file.name);
  return form;
}
