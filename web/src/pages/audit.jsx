// Every admin change: who, when, what, and the resource before and after.
import { ChevronDown, ChevronRight } from "lucide-react";
import { Fragment, useState } from "react";
import { PageIntro } from "../components/layout.jsx";
import { Badge } from "../components/ui/badge.jsx";
import { Card } from "../components/ui/card.jsx";
import { Input, Select } from "../components/ui/input.jsx";
import { Pagination } from "../components/ui/pagination.jsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.jsx";
import { Table, Td, Th, Tr } from "../components/ui/table.jsx";
import { formatDateTime } from "../lib/format.js";
import { useApi } from "../lib/use-api.js";

const RESOURCES = ["provider", "provider_key", "client_key", "user", "user_grants", "plugin"];
const PAGE_SIZE = 50;

function actionTone(action) {
  if (action === "delete") return "danger";
  if (action === "create") return "success";
  return "neutral";
}

/** The fields that changed between two snapshots. */
export function changedFields(before, after) {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  keys.delete("updated_at");
  return [...keys].filter((k) => JSON.stringify(before?.[k]) !== JSON.stringify(after?.[k]));
}

function Snapshot({ label, value }) {
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
  const [open, setOpen] = useState(null);
  const params = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
  if (resource) params.set("resource", resource);
  if (actor.trim()) params.set("actor", actor.trim());
  const audit = useApi(`/api/audit?${params}`);
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
                  {r.replace("_", " ")}
                </option>
              ))}
            </Select>
            <Input aria-label="Actor" placeholder="Actor" value={actor} onChange={(e) => (setActor(e.target.value), setPage(1))} className="w-36" />
          </>
        }
      >
        Every change made through the admin API, newest first. Secrets never appear here.
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
                    <Tr onClick={() => setOpen(open === e.id ? null : e.id)} aria-expanded={open === e.id}>
                      <Td actions className="sm:static">
                        {open === e.id ? <ChevronDown className="size-4" /> : <ChevronRight className="size-4" />}
                      </Td>
                      <Td primary className="whitespace-nowrap tabular-nums text-muted-foreground">
                        {formatDateTime(e.created_at)}
                      </Td>
                      <Td label="Actor" className="font-medium">
                        {e.actor_name}
                      </Td>
                      <Td label="Action">
                        <Badge tone={actionTone(e.action)}>{e.action.replace("_", " ")}</Badge>
                      </Td>
                      <Td label="Resource">
                        {e.resource.replace("_", " ")} {e.resource_id ? <span className="text-muted-foreground">#{e.resource_id}</span> : null}
                      </Td>
                      <Td label="Changed" phone={Boolean(e.before && e.after)} className="max-w-[260px] truncate text-muted-foreground">
                        {e.before && e.after ? changedFields(e.before, e.after).join(", ") || "nothing" : ""}
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
