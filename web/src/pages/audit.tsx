// Every admin change: who, when, what, and the resource before and after.
import { ChevronDown, ChevronRight } from "lucide-react";
import { Fragment, useState } from "react";
import { PageIntro } from "../components/layout.tsx";
import { Badge } from "../components/ui/badge.tsx";
import { Card } from "../components/ui/card.tsx";
import { Input, Select } from "../components/ui/input.tsx";
import { Pagination } from "../components/ui/pagination.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { formatDateTime } from "../lib/format.ts";
import { useApi } from "../lib/use-api.ts";
import { read, type Schema } from "../lib/client.ts";
import type { Tone } from "../components/ui/badge.tsx";

type Entry = Schema<"AuditEntry">;
/** A resource as the audit recorded it: a JSON object, or nothing. */
type Snap = Record<string, unknown>;

/** The snapshot as an object, when it is one (the API declares it as any JSON). */
function snap(value: unknown): Snap | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Snap) : null;
}

/** A snapshot's field as text, when it is a string. */
function textOf(value: unknown): string | null {
  return typeof value === "string" && value ? value : null;
}

/** The API's resource names in the console's words (the menu's and the buttons'). */
export const RESOURCE_WORDS: Record<string, string> = {
  provider: "provider",
  upstream_key: "upstream key",
  client_key: "client key",
  oauth_client: "OAuth client",
  user: "user",
  user_grants: "user grants",
  plugin: "plugin",
};
const RESOURCES = Object.keys(RESOURCE_WORDS);
const PAGE_SIZE = 50;

function actionTone(action: string): Tone {
  if (action === "delete" || action === "sign_in_failed") return "danger";
  if (action === "create" || action === "sign_in") return "success";
  return "neutral";
}

/** Fields that say nothing about the change itself. */
const BOOKKEEPING = new Set(["id", "created_at", "updated_at"]);

/**
 * The fields that changed between two snapshots; for a creation, every
 * field the new resource was given, and for a deletion every field it had.
 */
export function changedFields(beforeValue: unknown, afterValue: unknown): string[] {
  const before = snap(beforeValue);
  const after = snap(afterValue);
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  for (const k of BOOKKEEPING) keys.delete(k);
  if (!before || !after) return [...keys].filter((k) => (after ?? before)?.[k] !== null && (after ?? before)?.[k] !== undefined);
  return [...keys].filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]));
}

/** "upstream key team-a", never "upstream_key #4": the name from the snapshots when there is one. */
export function resourceLabel(e: Entry): string {
  const words = RESOURCE_WORDS[e.resource] ?? e.resource.replaceAll("_", " ");
  const s = snap(e.after) ?? snap(e.before) ?? {};
  // An account acting on itself (a sign-in, its own password) is named by its actor.
  const self = e.resource === "user" && e.actor_id !== null && e.actor_id !== undefined && String(e.actor_id) === e.resource_id;
  const name = textOf(s.name) ?? textOf(s.username) ?? textOf(s.client_name) ?? (e.action.startsWith("sign_in") || self ? e.actor_name : null);
  if (name) return `${words} ${name}`;
  return e.resource_id ? `${words} ${e.resource_id}` : words;
}

/** The "Changed" cell: the fields, or what a sign-in was. */
function changeWords(e: Entry): string {
  if (e.action.startsWith("sign_in")) {
    const after = snap(e.after);
    const viaText = textOf(after?.via);
    const address = textOf(after?.address);
    const via = viaText ? ` via ${viaText.replaceAll("_", " ")}` : "";
    return `${e.action === "sign_in" ? "signed in" : "failed to sign in"}${via}${address ? ` from ${address}` : ""}`;
  }
  if (e.action === "delete") return "deleted";
  const fields = changedFields(e.before, e.after);
  return fields.length ? fields.join(", ") : e.before && e.after ? "nothing" : "";
}

function Snapshot({ label, value }: { label: string; value: unknown }) {
  return (
    <div className="min-w-0">
      <div className="mb-1 text-xs font-medium uppercase tracking-wide text-muted-foreground">{label}</div>
      <pre className="max-h-64 overflow-auto rounded-md bg-muted p-2 text-xs">{value ? JSON.stringify(value, null, 2) : "—"}</pre>
    </div>
  );
}

export function AuditPage() {
  const [page, setPage] = useState(1);
  const [resource, setResource] = useState("");
  const [actor, setActor] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const audit = useApi(read("audit_list", { query: { page, page_size: PAGE_SIZE, resource, actor: actor.trim() } }));
  const data = audit.data;

  return (
    <>
      <PageIntro
        actions={
          <>
            <Select aria-label="Resource" value={resource} onChange={(e) => (setResource(e.target.value), setPage(1))} className="w-40">
              <option value="">All resources</option>
              {RESOURCES.map((r) => (
                <option key={r} value={r}>
                  {RESOURCE_WORDS[r]}
                </option>
              ))}
            </Select>
            <Input aria-label="Actor" placeholder="Actor" value={actor} onChange={(e) => (setActor(e.target.value), setPage(1))} className="w-36" />
          </>
        }
      >
        Every change made through the admin API and every password sign-in, newest first. Secrets never appear here.
      </PageIntro>
      <Card>
        <ErrorNote error={audit.error} onRetry={audit.reload} className="m-4" />
        {audit.loading && !data ? (
          <Loading />
        ) : !data?.items?.length ? (
          <Empty title="No changes recorded" />
        ) : (
          <>
            <Table minWidth={720}>
              <thead>
                <tr>
                  <Th className="w-8" />
                  <Th>Time</Th>
                  <Th>Actor</Th>
                  <Th>Action</Th>
                  <Th>Resource</Th>
                  <Th>Changed</Th>
                </tr>
              </thead>
              <tbody data-testid="audit-rows">
                {data.items.map((e) => (
                  <Fragment key={e.id}>
                    <Tr onClick={() => setOpen(open === e.id ? null : e.id)}>
                      <Td actions className="sm:static">
                        <button
                          type="button"
                          className="rounded p-0.5 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
                          aria-expanded={open === e.id}
                          aria-label={`Before and after: ${e.action.replaceAll("_", " ")} ${resourceLabel(e)}`}
                          onClick={(ev) => {
                            ev.stopPropagation();
                            setOpen(open === e.id ? null : e.id);
                          }}
                        >
                          {open === e.id ? <ChevronDown className="size-4" aria-hidden="true" /> : <ChevronRight className="size-4" aria-hidden="true" />}
                        </button>
                      </Td>
                      <Td primary className="whitespace-nowrap tabular-nums text-muted-foreground">
                        {formatDateTime(e.created_at)}
                      </Td>
                      <Td label="Actor" className="font-medium">
                        {e.actor_name}
                      </Td>
                      <Td label="Action">
                        <Badge tone={actionTone(e.action)}>{e.action.replaceAll("_", " ")}</Badge>
                      </Td>
                      <Td label="Resource">
                        {resourceLabel(e)}
                      </Td>
                      <Td label="Changed" phone={Boolean(changeWords(e))} className="max-w-[260px] truncate text-muted-foreground">
                        {changeWords(e)}
                      </Td>
                    </Tr>
                    {open === e.id ? (
                      <tr>
                        <td colSpan={6} className="border-b bg-muted/30 p-3 sm:px-5">
                          <div className="grid gap-3 md:grid-cols-2">
                            <Snapshot label="Before" value={e.before} />
                            <Snapshot label="After" value={e.after} />
                          </div>
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                ))}
              </tbody>
            </Table>
            <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} />
          </>
        )}
      </Card>
    </>
  );
}
