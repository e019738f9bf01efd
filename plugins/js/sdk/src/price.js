// Price lookup and the standard cost formula.
//
// Prices are micro-USD per million tokens (the WIT `price`); costs are
// nano-USD, so cost = tokens * price / 1000, rounded to the nearest
// nano-dollar. The arithmetic is done in BigInt: u64 values reach a
// componentize-qjs plugin as plain numbers, and their products can pass 2^53.

/** The price whose `model` is the longest prefix of `model`, or `null`. */
export function findPrice(model, prices) {
  let best = null;
  for (const price of prices) {
    if (model.startsWith(price.model) && (best === null || price.model.length > best.model.length)) {
      best = price;
    }
  }
  return best;
}

const big = (n) => BigInt(Math.max(0, Math.trunc(Number(n ?? 0))));

/**
 * Nano-USD for `usage`: uncached input at `input`, cached input at
 * `cachedInput`, cache writes at `cacheWrite` (both default to `input`),
 * output at `output`. `null` when no price matches.
 */
export function cost(model, usage, prices) {
  const price = findPrice(model, prices);
  if (price === null) return null;
  const input = big(usage.inputTokens);
  let cached = big(usage.cachedInputTokens);
  if (cached > input) cached = input;
  const inputPrice = big(price.input);
  const microTokens =
    (input - cached) * inputPrice +
    cached * (price.cachedInput == null ? inputPrice : big(price.cachedInput)) +
    big(usage.cacheWriteTokens) * (price.cacheWrite == null ? inputPrice : big(price.cacheWrite)) +
    big(usage.outputTokens) * big(price.output);
  return Number((microTokens + 500n) / 1000n);
}

/**
 * A price entry in the WIT's unit, micro-USD per million tokens:
 * `price("acme-1", 2_500_000, 10_000_000, 1_250_000)` is $2.50 input, $10
 * output and $1.25 cached input per million tokens. `null` bills cached
 * input or cache writes at the input price.
 */
export function price(model, input, output, cachedInput = null, cacheWrite = null) {
  return { model, input, output, cachedInput, cacheWrite };
}

/**
 * Micro-USD per million tokens from a list price in US dollars per million
 * tokens (`usd(2.5)` is `2500000`), rounded to the nearest micro-dollar.
 */
export function usd(dollarsPerMillionTokens) {
  const micros = Math.round(dollarsPerMillionTokens * 1_000_000);
  return Number.isNaN(micros) || micros <= 0 ? 0 : micros;
}
