// The one way the console talks to the gateway: JSON under /api, the
// session in the HttpOnly cookie set at login. Every failure becomes an
// ApiError whose message is fit to show an operator; a 401 outside the
// login call means the session ended, and the registered handler sends
// the operator back to the login page. Pages do not call this directly:
// they use the typed client of `client.ts`, which names each route as the
// OpenAPI document does and builds the URL this function fetches.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;

  constructor(status: number, message: string, code?: string | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code ?? null;
  }
}

export const SESSION_EXPIRED = "Your session has ended. Please sign in again.";

/** The call whose 401 means "wrong password", not "session ended". */
export const LOGIN_PATH = "/api/auth/login";

const STATUS_WORDS: Record<number, string> = {
  400: "The gateway refused the request.",
  401: "Sign-in required.",
  403: "Your account may not do this.",
  404: "Not found.",
  405: "The gateway does not support this action.",
  409: "This conflicts with something that exists.",
  413: "The upload is too large.",
  429: "Too many attempts. Wait a moment and try again.",
  500: "The gateway had an internal error.",
  502: "The gateway could not be reached.",
  503: "The gateway is unavailable.",
};

/** Words for a status when the body says nothing useful. */
export function statusWords(status: number): string {
  return STATUS_WORDS[status] ?? `The gateway answered ${status}.`;
}

/**
 * An ApiError from a failed response. The admin API answers
 * `{"error": {"message", "code"}}`; anything else (a proxy's HTML page, an
 * empty body) falls back to words for the status.
 */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // An unreadable body says nothing more than the status.
  }
  try {
    const body = JSON.parse(text);
    const error = body?.error;
    if (error && typeof error.message === "string" && error.message.trim()) {
      return new ApiError(response.status, sentence(error.message), error.code ?? error.type);
    }
    if (typeof error === "string" && error.trim()) {
      return new ApiError(response.status, sentence(error));
    }
  } catch {
    // Not JSON.
  }
  return new ApiError(response.status, statusWords(response.status));
}

/** Upper-cases the first letter and ends with a full stop. */
export function sentence(message: string): string {
  const m = message.trim();
  const first = m.charAt(0).toUpperCase() + m.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** The words to show for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  const e = error as { name?: unknown; message?: unknown } | null | undefined;
  if (e?.name === "AbortError") return "The request was cancelled.";
  if (error instanceof TypeError) return "Cannot reach the gateway. Check that it is running.";
  return (typeof e?.message === "string" && e.message) || "Something went wrong.";
}

let unauthorized: () => void = () => {};

/** Registers what happens when the session has ended (a 401). */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

/**
 * Calls the admin API. `body` is sent as JSON, `form` (FormData) as
 * multipart. Resolves to the parsed JSON answer, or null for an empty one.
 */
export async function api(path: string, { method, body, form, signal }: ApiOptions = {}): Promise<unknown> {
  const headers: Record<string, string> = { accept: "application/json" };
  const init: RequestInit = {
    method: method ?? (body !== undefined || form ? "POST" : "GET"),
    credentials: "same-origin",
    headers,
    signal,
  };
  if (form) {
    init.body = form;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401 && path !== LOGIN_PATH) {
    unauthorized();
    throw new ApiError(401, SESSION_EXPIRED, "unauthorized");
  }
  if (!response.ok) throw await errorFromResponse(response);
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}
