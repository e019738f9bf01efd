// The trends of one key over the shared range: for an upstream key its
// requests and errors and its latency, for a client key its requests and
// errors, its cost, and today's use against its daily limits. Title,
// charts and tiles all come from one series, so they cover the same days.
import { DailyBars, LatencyLine, RequestsChart } from "../components/lazy-charts.tsx";
import { ChartFigure, RangePicker, useRange } from "../components/range-picker.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { ErrorNote, Loading } from "../components/ui/states.tsx";
import { formatCost, formatDuration, formatNumber, formatTokens } from "../lib/format.ts";
import { limitUsage, summarize, totals } from "../lib/series.ts";
import { useApi } from "../lib/use-api.ts";
import { read, type Schema } from "../lib/client.ts";
import type { ApiState } from "../lib/use-api.ts";
import type { ReactNode } from "react";

type Day = Schema<"DayPoint">;

function Tiles({ items }: { items: [string, string][] }) {
  return (
    <div className="grid grid-cols-2 gap-3 text-sm sm:grid-cols-4" data-testid="trend-tiles">
      {items.map(([label, value]) => (
        <div key={label} className="rounded-md border p-3">
          <div className="text-xs text-muted-foreground">{label}</div>
          <div className="mt-1 font-semibold tabular-nums">{value}</div>
        </div>
      ))}
    </div>
  );
}

interface ShellProps {
  title: string;
  days: number;
  setDays: (days: number) => void;
  series: ApiState<Day[]>;
  onClose: () => void;
  open: boolean;
  testId: string;
  /** What to draw from the loaded series. */
  children: (data: Day[]) => ReactNode;
}

function TrendShell({ title, days, setDays, series, onClose, open, testId, children }: ShellProps) {
  return (
    <Dialog open={open} onOpenChange={(o) => !o && onClose()} title={title} wide>
      <div className="mb-3 flex justify-end">
        <RangePicker days={days} onChange={setDays} />
      </div>
      <ErrorNote error={series.error} onRetry={series.reload} />
      {series.loading && !series.data ? (
        <Loading />
      ) : (
        <div className="grid gap-4" data-testid={testId}>
          {children(series.data ?? [])}
        </div>
      )}
    </Dialog>
  );
}

/** An upstream key: requests, errors, latency. */
export function UpstreamTrendsDialog({ keyRow, onClose }: { keyRow: Schema<"UpstreamKeyView"> | null; onClose: () => void }) {
  const [days, setDays] = useRange();
  const series = useApi(keyRow ? read("upstream_keys_upstream_key_trends", { path: { id: keyRow.id }, query: { days } }) : null);
  return (
    <TrendShell
      open={Boolean(keyRow)}
      title={`${keyRow?.name ?? ""}: last ${days} days`}
      days={days}
      setDays={setDays}
      series={series}
      onClose={onClose}
      testId="key-trends"
    >
      {(data) => {
        const t = totals(data);
        return (
          <>
            <Tiles
              items={[
                ["Requests", formatNumber(t.requests)],
                ["Errors", `${formatNumber(t.errors)} (${formatNumber(t.server_errors)} 5xx)`],
                ["Mean latency", formatDuration(t.latency_ms)],
                ["Cost", formatCost(t.cost_usd)],
              ]}
            />
            <div>
              <h3 className="mb-1 text-sm font-medium">Requests and errors per day</h3>
              <ChartFigure summary={summarize(data, days)}>
                <RequestsChart data={data} height={200} />
              </ChartFigure>
            </div>
            <div>
              <h3 className="mb-1 text-sm font-medium">Mean latency per day</h3>
              <ChartFigure summary={`Mean latency over the range: ${formatDuration(t.latency_ms)}.`}>
                <LatencyLine data={data} height={160} />
              </ChartFigure>
            </div>
          </>
        );
      }}
    </TrendShell>
  );
}

function LimitUsage({ today, limits }: { today: Day | undefined; limits: Schema<"ClientLimitsInput"> | undefined }) {
  const rows = limitUsage(today, limits);
  if (!rows.length) return <p className="text-sm text-muted-foreground">No daily limits: this key is not capped per day.</p>;
  return (
    <ul className="grid gap-2" data-testid="limit-usage">
      {rows.map((r) => (
        <li key={r.key} className="grid gap-1 text-sm">
          <div className="flex justify-between gap-2">
            <span>{r.label}</span>
            <span className="tabular-nums">{r.text}</span>
          </div>
          <div
            className="h-2 overflow-hidden rounded-full bg-muted"
            role="meter"
            aria-label={r.label}
            aria-valuemin={0}
            aria-valuemax={r.limit}
            aria-valuenow={Math.min(r.used, r.limit)}
            aria-valuetext={r.text}
          >
            <div className={r.ratio >= 0.9 ? "h-full bg-destructive" : "h-full bg-primary"} style={{ width: `${Math.round(r.ratio * 100)}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}

/** A client key: requests and errors, cost, and today's use against its limits. */
export function ClientTrendsDialog({ keyRow, onClose }: { keyRow: Schema<"ClientKeyView"> | null; onClose: () => void }) {
  const [days, setDays] = useRange();
  const series = useApi(keyRow ? read("client_keys_client_key_trends", { path: { id: keyRow.id }, query: { days } }) : null);
  return (
    <TrendShell
      open={Boolean(keyRow)}
      title={`${keyRow?.name ?? ""}: last ${days} days`}
      days={days}
      setDays={setDays}
      series={series}
      onClose={onClose}
      testId="client-key-trends"
    >
      {(data) => {
        const t = totals(data);
        return (
          <>
            <Tiles
              items={[
                ["Requests", formatNumber(t.requests)],
                ["Errors", formatNumber(t.errors)],
                ["Tokens", formatTokens(t.tokens)],
                ["Cost", formatCost(t.cost_usd)],
              ]}
            />
            <div className="grid gap-4 md:grid-cols-2">
              <div>
                <h3 className="mb-1 text-sm font-medium">Requests and errors per day</h3>
                <ChartFigure summary={summarize(data, days)}>
                  <RequestsChart data={data} height={180} />
                </ChartFigure>
              </div>
              <div>
                <h3 className="mb-1 text-sm font-medium">Cost per day</h3>
                <ChartFigure summary={`Cost over the range: ${formatCost(t.cost_usd)}.`}>
                  <DailyBars data={data} dataKey="cost_usd" name="Cost" height={180} />
                </ChartFigure>
              </div>
            </div>
            <section>
              <h3 className="mb-2 text-sm font-medium">Today (UTC) against the daily limits</h3>
              <LimitUsage today={data[data.length - 1]} limits={keyRow?.limits} />
            </section>
          </>
        );
      }}
    </TrendShell>
  );
}
