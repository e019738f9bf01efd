// Writes the typed client's generated files (web/api-types.mjs) before
// any test imports a page, so `npx vitest run` works on a fresh clone.
import { apiTypes } from "../api-types.mjs";

export default async function setup() {
  await apiTypes();
}
