// The typed admin API client, generated from the gateway's OpenAPI
// document (web/openapi.json, kept equal to /api/openapi.json by a host
// test). Pages name an operation by its id ("providers_update"); its
// method and path come from `api-routes.ts` and the types of its path and
// query parameters, JSON body and answer from `api-schema.d.ts`, both
// written by web/api-types.mjs at build time. A route, parameter or field
// the gateway does not have is a type error (`tsc`, run by web/test.sh),
// not a 404 in front of an operator. The wire work (session cookie, error
// words, the 401 handler) stays `api()`'s.
import { api } from "./api.ts";
import { ROUTES } from "./api-routes.ts";
import type { components, operations } from "./api-schema";

/** A named schema of the document: `Schema<"ProviderView">`. */
export type Schema<N extends keyof components["schemas"]> = components["schemas"][N];

/** Every operation id of the document. */
export type OperationId = keyof operations & keyof typeof ROUTES;

/** The operations that read (GET): what `useApi` loads. */
export type ReadId = {
  [I in OperationId]: (typeof ROUTES)[I]["method"] extends "GET" ? I : never;
}[OperationId];

type Params<O> = O extends { parameters: infer X } ? X : never;

type PathPart<O> = Params<O> extends { path: infer X } ? ([X] extends [never] ? unknown : { path: X }) : unknown;

type QueryPart<O> =
  Params<O> extends { query: infer Q }
    ? [Q] extends [never]
      ? unknown
      : { query: Q }
    : Params<O> extends { query?: infer Q }
      ? [NonNullable<Q>] extends [never]
        ? unknown
        : { query?: Q }
      : unknown;

type BodyPart<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? { body: B }
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? { body?: B }
    : O extends { requestBody: { content: { "multipart/form-data": unknown } } }
      ? { form: FormData }
      : unknown;

/** What a call of operation `O` takes: its parameters and body. */
export type Options<O> = PathPart<O> & QueryPart<O> & BodyPart<O> & { signal?: AbortSignal };

type Success = 200 | 201 | 202 | 204;

/** The JSON answer of operation `O` on success (null when it has none). */
export type Answer<O> = O extends { responses: infer R }
  ? { [S in keyof R & Success]: R[S] extends { content: { "application/json": infer T } } ? T : null }[keyof R & Success]
  : never;

/** The JSON body operation `I` takes: `BodyOf<"providers_create">`. */
export type BodyOf<I extends OperationId> = operations[I] extends {
  requestBody?: { content: { "application/json": infer B } };
}
  ? B
  : never;

/** The answer of operation `I`: `AnswerOf<"providers_list">`. */
export type AnswerOf<I extends OperationId> = Answer<operations[I]>;

/** Options may be left out when none of them is required. */
type Rest<O> = {} extends Options<O> ? [options?: Options<O>] : [options: Options<O>];

interface Loose {
  path?: Record<string, unknown>;
  query?: object;
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

/** The query string of `query`; empty values are left out, order kept. */
function queryString(query: object | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The URL of operation `id` with its path and query parameters filled in. */
export function urlOf(id: OperationId, options: Loose = {}): string {
  const { path } = ROUTES[id];
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = options.path?.[name];
    if (value === undefined || value === null) throw new TypeError(`${id}: no value for {${name}}`);
    return encodeURIComponent(String(value));
  });
  return filled + queryString(options.query);
}

/** Sends operation `id` and resolves to its answer; failures throw ApiError. */
export function call<I extends OperationId>(id: I, ...[options]: Rest<operations[I]>): Promise<AnswerOf<I>> {
  const loose: Loose = options ?? {};
  return api(urlOf(id, loose), {
    method: ROUTES[id].method,
    body: loose.body,
    form: loose.form,
    signal: loose.signal,
  }) as Promise<AnswerOf<I>>;
}

/** A read `useApi` can send, abort and repeat; `key` (its URL) names it. */
export interface Read<T> {
  readonly key: string;
  load(signal?: AbortSignal): Promise<T>;
}

/** A GET of operation `id`, not sent yet: `useApi` sends it while shown. */
export function read<I extends ReadId>(id: I, ...[options]: Rest<operations[I]>): Read<AnswerOf<I>> {
  const key = urlOf(id, options ?? {});
  return { key, load: (signal) => api(key, { method: "GET", signal }) as Promise<AnswerOf<I>> };
}
