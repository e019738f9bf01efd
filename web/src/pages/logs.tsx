// The request log: server-side paging, search and filters kept in the
// URL (status classes, model prefixes, error class, trace id), times in
// the browser's zone said aloud, live follow, and a detail dialog for one
// trace.
import { Filter, RotateCcw, Search } from "lucide-react";
import { useEffect, useMemo, useState, type ChangeEvent, type FormEvent } from "react";
import { PageIntro, type PageProps } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Pagination } from "../components/ui/pagination.tsx";
import { Empty, ErrorNote, Loading, Spinner } from "../components/ui/states.tsx";
import { timeZoneLabel } from "../lib/format.ts";
import { Switch } from "../components/ui/switch.tsx";
import { EMPTY_FILTERS, PAGE_SIZES, filterProblem, filtersToSearch, searchToFilters, traceParams, type Filters } from "../lib/query.ts";
import { navigate } from "../lib/router.ts";
import { useApi } from "../lib/use-api.ts";
import { cn } from "../lib/cn.ts";
import { TraceDialog } from "./trace-dialog.tsx";
import { TraceList } from "./trace-list.tsx";
import { read } from "../lib/client.ts";

/** Error classes the gateway records, offered as suggestions (others are matched too). */
const ERROR_CLASSES = [
  "server_error",
  "rate_limited",
  "quota_exhausted",
  "auth_invalid",
  "bad_request",
  "other",
  "unauthorized",
  "usage_unknown",
  "quota_cut",
];

/** How often the first page reloads while following. */
export const FOLLOW_MS = 2000;

interface FilterBarProps {
  applied: Filters;
  admin: boolean;
  onApply: (filters: Filters) => void;
}

function FilterBar({ applied, admin, onApply }: FilterBarProps) {
  const [draft, setDraft] = useState(applied);
  const [problem, setProblem] = useState<string | null>(null);
  const [more, setMore] = useState(false); // the fields on narrow screens
  const providers = useApi(read("providers_list"));
  const clientKeys = useApi(read("client_keys_list"));
  const upstreamKeys = useApi(admin ? read("upstream_keys_list") : null);
  useEffect(() => setDraft(applied), [applied]);

  const set = (key: keyof Filters) => (e: ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setDraft((d) => ({ ...d, [key]: e.target.value }));
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const p = filterProblem(draft);
    setProblem(p);
    if (!p) onApply(draft);
  };
  const active = (["id", "model", "status_code", "error_class", "provider", "upstream_key", "client_key_id", "from", "to"] as const).filter((k) => applied[k]).length;
  const upstreamNames = [...new Set((upstreamKeys.data ?? []).map((k) => k.name))];

  return (
    <form onSubmit={submit} className="grid gap-3 border-b p-4 sm:p-5" aria-label="Log filters">
      <div className="flex gap-2">
        <div className="relative flex-1">
          <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" />
          <Input
            aria-label="Search"
            placeholder="Search model, path, key names, error text or request id"
            value={draft.q}
            onChange={set("q")}
            className="pl-9"
          />
        </div>
        <Button type="submit" aria-label="Apply filters">
          <Filter /> <span className="hidden sm:inline">Apply</span>
        </Button>
        <Button
          variant="outline"
          aria-label="Reset filters"
          onClick={() => {
            // Also when nothing was applied: the fields may hold a refused draft.
            setDraft({ ...EMPTY_FILTERS });
            setProblem(null);
            onApply({ ...EMPTY_FILTERS });
          }}
        >
          <RotateCcw />
        </Button>
      </div>
      <button
        type="button"
        className="justify-self-start text-sm font-medium text-primary sm:hidden"
        aria-expanded={more}
        onClick={() => setMore((m) => !m)}
      >
        {more ? "Fewer filters" : `More filters${active ? ` (${active} set)` : ""}`}
      </button>
      <div className={cn("grid-cols-2 gap-3 sm:grid md:grid-cols-4", more ? "grid" : "hidden")}>
        <Field label="Model">{(id) => <Input id={id} value={draft.model} onChange={set("model")} placeholder="prefixes: gpt-4, claude" />}</Field>
        <Field label="Status">
          {(id) => <Input id={id} value={draft.status_code} onChange={set("status_code")} placeholder="429, 4xx or 5xx" />}
        </Field>
        <Field label="Error class">
          {(id) => (
            <>
              <Input id={id} value={draft.error_class} onChange={set("error_class")} placeholder="e.g. server_error" list={`${id}-classes`} />
              <datalist id={`${id}-classes`}>
                {ERROR_CLASSES.map((c) => (
                  <option key={c} value={c} />
                ))}
              </datalist>
            </>
          )}
        </Field>
        <Field label="Trace id">{(id) => <Input id={id} value={draft.id} onChange={set("id")} inputMode="numeric" placeholder="e.g. 1600" />}</Field>
        <Field label="Provider">
          {(id) => (
            <Select id={id} value={draft.provider} onChange={set("provider")}>
              <option value="">Any</option>
              {(providers.data ?? []).map((p) => (
                <option key={p.id} value={p.name}>
                  {p.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Upstream key">
          {(id) =>
            admin ? (
              <Select id={id} value={draft.upstream_key} onChange={set("upstream_key")}>
                <option value="">Any</option>
                {upstreamNames.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </Select>
            ) : (
              <Input id={id} value={draft.upstream_key} onChange={set("upstream_key")} placeholder="name" />
            )
          }
        </Field>
        <Field label="Client key">
          {(id) => (
            <Select id={id} value={draft.client_key_id} onChange={set("client_key_id")}>
              <option value="">Any</option>
              {(clientKeys.data ?? []).map((k) => (
                <option key={k.id} value={String(k.id)}>
                  {k.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="From" className="col-span-2 md:col-span-1">{(id) => <Input id={id} type="datetime-local" value={draft.from} onChange={set("from")} />}</Field>
        <Field label="To" className="col-span-2 md:col-span-1">{(id) => <Input id={id} type="datetime-local" value={draft.to} onChange={set("to")} />}</Field>
      </div>
      <ErrorNote error={problem} />
    </form>
  );
}

export function LogsPage({ user, search }: PageProps) {
  const { filters, page, pageSize } = useMemo(() => searchToFilters(search), [search]);
  const [open, setOpen] = useState<number | null>(null);
  const traces = useApi(read("traces_list", { query: traceParams(filters, page, pageSize) }));
  const go = (f: Filters, p: number, size: number) => navigate(`/logs${filtersToSearch(f, p, size)}`);
  const data = traces.data;
  const filtered = Object.values(filters).some(Boolean);
  const [follow, setFollow] = useState(true);
  const following = follow && page === 1;
  const zone = useMemo(() => timeZoneLabel(), []);
  const { reload } = traces;
  useEffect(() => {
    if (!following || open !== null) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") reload();
    }, FOLLOW_MS);
    return () => clearInterval(timer);
  }, [following, open, reload]);
  // A reload while following is not shown as loading: the rows would blink.
  const dim = traces.loading && !following;

  return (
    <>
      <PageIntro
        actions={
          <>
            <label className="flex items-center gap-2 text-sm" title={page === 1 ? undefined : "Only the first page follows."}>
              <Switch checked={follow} onCheckedChange={setFollow} aria-label="Follow live" data-testid="follow-live" />
              Follow live
            </label>
            <Button variant="outline" onClick={traces.reload} disabled={traces.loading}>
              {traces.loading && !following ? <Spinner /> : <RotateCcw />} Refresh
            </Button>
          </>
        }
      >
        Every request through the proxy, newest first. Select a row for the whole trace. Times are in{" "}
        <span data-testid="time-zone">{zone}</span>; the dashboard counts per UTC day.
      </PageIntro>
      <Card>
        <FilterBar applied={filters} admin={user.role === "admin"} onApply={(f) => go(f, 1, pageSize)} />
        <ErrorNote error={traces.error} onRetry={traces.reload} className="m-4" />
        {traces.loading && !data ? (
          <Loading />
        ) : !data?.items?.length ? (
          <Empty title={filtered ? "No requests match these filters" : "No requests yet"}>
            {filtered
              ? "Change or reset the filters."
              : following
                ? "Requests sent to the proxy with a client key appear here within seconds while Follow live is on."
                : "Requests sent to the proxy with a client key appear here; switch on Follow live or refresh."}
          </Empty>
        ) : (
          <>
            <TraceList items={data.items} zone={zone} dim={dim} onOpen={setOpen} />
            <Pagination
              page={data.page}
              pageSize={data.page_size}
              total={data.total}
              totalIsLowerBound={data.total_is_lower_bound}
              onPage={(p) => go(filters, p, pageSize)}>
              <Select
                aria-label="Rows per page"
                className="h-9 w-[5.5rem]"
                value={pageSize}
                onChange={(e) => go(filters, 1, Number(e.target.value))}
              >
                {PAGE_SIZES.map((n) => (
                  <option key={n} value={n}>
                    {n} / page
                  </option>
                ))}
              </Select>
            </Pagination>
          </>
        )}
      </Card>
      <TraceDialog id={open} onClose={() => setOpen(null)} />
    </>
  );
}
