// Default error classification from the status code and `retry-after`
// (the WIT `error-class`).

import { header } from "./http.js";

/** Error classes as the host expects them. */
export const ErrorClass = {
  rateLimited: (seconds = null) => ({ tag: "rate-limited", val: seconds }),
  quotaExhausted: () => ({ tag: "quota-exhausted" }),
  authInvalid: () => ({ tag: "auth-invalid" }),
  badRequest: () => ({ tag: "bad-request" }),
  serverError: () => ({ tag: "server-error" }),
  other: () => ({ tag: "other" }),
};

const MAX_U32 = 4294967295;

/** Seconds from `retry-after-ms` or `retry-after` (delta-seconds), rounded up; `null` otherwise. */
export function retryAfter(headers) {
  const ms = header(headers, "retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) {
    return Math.min(MAX_U32, Math.max(0, Math.ceil(Number(ms) / 1000)));
  }
  const secs = header(headers, "retry-after");
  if (secs !== null && secs.trim() !== "" && Number.isFinite(Number(secs))) {
    return Math.min(MAX_U32, Math.max(0, Math.ceil(Number(secs))));
  }
  return null;
}

/**
 * The class most providers mean by `status`: 429 rate-limited (with
 * `retry-after`), 401 auth-invalid, 402 quota-exhausted, 408 and 5xx
 * server-error, other 4xx bad-request.
 */
export function byStatus(status, headers) {
  if (status === 429) return ErrorClass.rateLimited(retryAfter(headers));
  if (status === 401) return ErrorClass.authInvalid();
  if (status === 402) return ErrorClass.quotaExhausted();
  if (status === 408) return ErrorClass.serverError();
  if (status >= 400 && status <= 499) return ErrorClass.badRequest();
  if (status >= 500 && status <= 599) return ErrorClass.serverError();
  return ErrorClass.other();
}
