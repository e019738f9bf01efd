// A plugin version's conformance result (GET /api/plugins/{id}/conformance):
// passed, failed with each vector's differences field by field, forced to
// serve by an operator, or not checked (built-in versions). A failed
// version that was not forced does not serve; the summary says so.
import { useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { useApi } from "../lib/use-api.ts";
import { read, type Schema } from "../lib/client.ts";
import type { Tag } from "../lib/format.ts";

/** Badge words, tone and title for a conformance result. */
export function conformanceSummary(c: Schema<"ConformanceView"> | null | undefined): Tag | null {
  if (!c) return null;
  const vectors = `${c.cases} vector${c.cases === 1 ? "" : "s"}`;
  if (!c.checked) return { label: "not checked", tone: "outline", title: "Built-in, or stored before uploads were checked against conformance vectors." };
  if (c.passed) return { label: `conformance passed · ${vectors}`, tone: "success", title: `Met all ${vectors} at upload.` };
  const failed = `${c.failed.length} of ${vectors} failed`;
  if (c.forced) return { label: `conformance failed · forced`, tone: "warning", title: `${failed}; ${c.forced_by ?? "an operator"} let it serve anyway.` };
  return { label: "conformance failed · not serving", tone: "danger", title: `${failed}; it serves only if forced.` };
}

export function PluginConformance({ plugin }: { plugin: Pick<Schema<"PluginView">, "id"> }) {
  const result = useApi(read("plugins_get_result", { path: { id: plugin.id } }));
  const [open, setOpen] = useState(false);
  const summary = conformanceSummary(result.data);
  if (!summary || !result.data) return null;
  const failed = result.data.failed ?? [];
  return (
    <div className="mt-1 grid gap-1" data-testid="plugin-conformance">
      <div className="flex flex-wrap items-center gap-1">
        <Badge tone={summary.tone} title={summary.title}>
          {summary.label}
        </Badge>
        {failed.length ? (
          <button type="button" className="text-xs text-primary underline-offset-2 hover:underline" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? "hide differences" : `${failed.length} failed vector${failed.length === 1 ? "" : "s"}`}
          </button>
        ) : null}
      </div>
      {open ? (
        <ul className="grid gap-1.5 text-xs" data-testid="conformance-differences">
          {failed.map((c) => (
            <li key={c.name}>
              <div className="font-medium">{c.name}</div>
              {c.differences.map((d) => (
                <code key={d} className="block whitespace-pre-wrap break-all text-muted-foreground">
                  {d}
                </code>
              ))}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
