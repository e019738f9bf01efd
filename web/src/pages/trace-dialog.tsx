// One trace in full: request, routing, tokens, cost, timings, the error
// and every attempt with the upstream's status and own message.
import { Badge } from "../components/ui/badge.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { ErrorNote, Loading } from "../components/ui/states.tsx";
import { formatCost, formatDateTime, formatDuration, formatNumber, statusTone, timeZoneLabel } from "../lib/format.ts";
import { useApi } from "../lib/use-api.ts";
import { read, type Schema } from "../lib/client.ts";
import type { ReactNode } from "react";

function Row({ label, children }: { label: string; children?: ReactNode }) {
  return (
    <div className="flex justify-between gap-4 border-b py-1.5 text-sm last:border-b-0">
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="min-w-0 break-all text-right font-medium">{children ?? "—"}</dd>
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="rounded-md border p-3">
      <h4 className="mb-1 text-xs font-semibold uppercase tracking-wide text-muted-foreground">{title}</h4>
      <dl>{children}</dl>
    </section>
  );
}

/** One upstream attempt: which key, what the upstream answered and said, how long it took. */
function Attempt({ attempt: a, index }: { attempt: Schema<"TraceAttempt">; index: number }) {
  const failed = a.status === null || a.status === undefined || a.status >= 400;
  return (
    <li className="rounded-md border p-3 text-sm" data-testid="trace-attempt">
      <div className="mb-1 flex flex-wrap items-center gap-2">
        <span className="font-medium">Attempt {index + 1}</span>
        {a.status ? <Badge tone={statusTone(a.status)}>{a.status}</Badge> : <Badge tone="danger">no answer</Badge>}
        {a.error_class ? <Badge tone="danger">{a.error_class}</Badge> : null}
        <span className="ml-auto text-muted-foreground">
          {a.upstream_key_name ?? "—"} · {formatDuration(a.duration_ms)}
        </span>
      </div>
      {a.message ? (
        <p className="break-words rounded bg-muted px-2 py-1 font-mono text-xs" data-testid="attempt-message">
          <span className="sr-only">The upstream said: </span>
          {a.message}
        </p>
      ) : failed && a.error ? (
        <p className="text-xs text-muted-foreground" data-testid="attempt-message">
          Gateway error: {a.error}
        </p>
      ) : null}
    </li>
  );
}

export function TraceDialog({ id, onClose }: { id: number | null; onClose: () => void }) {
  const trace = useApi(id ? read("traces_get_one", { path: { id } }) : null);
  const t = trace.data?.id === id ? trace.data : null;
  return (
    <Dialog open={id !== null} onOpenChange={(o) => !o && onClose()} title={`Trace ${id ?? ""}`} description={t?.request_id ? `Request ${t.request_id}` : undefined} wide>
      <ErrorNote error={trace.error} onRetry={trace.reload} />
      {!t && !trace.error ? <Loading /> : null}
      {t ? (
        <div className="grid gap-3" data-testid="trace-detail">
          <div className="flex flex-wrap items-center gap-2">
            <Badge tone={statusTone(t.status_code)}>{t.status_code}</Badge>
            <code className="rounded bg-muted px-1.5 py-0.5 text-xs">
              {t.method} {t.path}
            </code>
            {t.is_stream ? <Badge tone="primary">stream</Badge> : null}
            {t.error_class ? <Badge tone="danger">{t.error_class}</Badge> : null}
          </div>
          {t.error_message ? <ErrorNote error={t.error_message} /> : null}
          <div className="grid gap-3 md:grid-cols-2">
            <Section title="Routing">
              <Row label="Time">
                {formatDateTime(t.created_at)} {timeZoneLabel(new Date(t.created_at))}
              </Row>
              <Row label="Model">{t.model}</Row>
              <Row label="Provider">{t.provider_name}</Row>
              <Row label="Plugin">{t.plugin_name ? `${t.plugin_name} ${t.plugin_version ?? ""}` : null}</Row>
              <Row label="Upstream key">{t.upstream_key_name}</Row>
              <Row label="Client key">{t.client_key_name}</Row>
            </Section>
            <Section title="Usage">
              <Row label="Input tokens">{formatNumber(t.input_tokens)}</Row>
              <Row label="Cached input">{formatNumber(t.cached_input_tokens)}</Row>
              <Row label="Cache writes">{formatNumber(t.cache_write_tokens)}</Row>
              <Row label="Output tokens">{formatNumber(t.output_tokens)}</Row>
              <Row label="Reasoning tokens">{formatNumber(t.reasoning_tokens)}</Row>
              <Row label="Total tokens">{formatNumber(t.total_tokens)}</Row>
              <Row label="Cost">
                <span data-testid="trace-cost">{formatCost(t.cost_usd)}</span>
              </Row>
            </Section>
            <Section title="Timing">
              <Row label="First byte">{formatDuration(t.first_byte_ms)}</Row>
              <Row label="Duration">{formatDuration(t.duration_ms)}</Row>
              <Row label="Attempts">{formatNumber(t.attempts)}</Row>
            </Section>
          </div>
          <section>
            <h4 className="mb-2 text-xs font-semibold uppercase tracking-wide text-muted-foreground">Attempts</h4>
            {Array.isArray(t.attempt_log) && t.attempt_log.length ? (
              <ol className="grid gap-2" data-testid="trace-attempts">
                {t.attempt_log.map((a, i) => (
                  <Attempt key={i} attempt={a} index={i} />
                ))}
              </ol>
            ) : (
              <p className="text-sm text-muted-foreground">No upstream attempt was made.</p>
            )}
          </section>
        </div>
      ) : null}
    </Dialog>
  );
}
