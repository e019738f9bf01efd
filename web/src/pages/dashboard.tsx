// Requests, tokens and cost over time, the upstream failure rate apart
// from the clients' mistakes, who and what used the gateway most, each
// chart with its words; and a first-run checklist while nothing has
// passed through: /api/stats/overview and /api/stats/timeseries.
import { AlertTriangle, Coins, Hash, RotateCcw, Zap } from "lucide-react";
import { DailyBars, RequestsChart } from "../components/lazy-charts.tsx";
import { ChartFigure, RangePicker, useRange } from "../components/range-picker.tsx";
import { FirstRun } from "./first-run.tsx";
import { RankList } from "../components/rank-list.tsx";
import { PageIntro, type PageProps } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { ErrorNote, Loading, Spinner } from "../components/ui/states.tsx";
import { formatCost, formatNumber, formatPercent, formatTokens } from "../lib/format.ts";
import { summarize } from "../lib/series.ts";
import { useApi } from "../lib/use-api.ts";
import { read, type Schema } from "../lib/client.ts";
import type { LucideIcon } from "lucide-react";
import type { ReactNode } from "react";

/** "1 client error" / "3 client errors": the 4xx answers, the clients' own mistakes. */
function clientErrors(o: Schema<"Overview"> | null): string {
  const n = (o?.errors ?? 0) - (o?.server_errors ?? 0);
  return `${formatNumber(n)} client ${n === 1 ? "error" : "errors"}`;
}

interface StatProps {
  label: string;
  value: ReactNode;
  sub?: ReactNode;
  icon: LucideIcon;
  testId?: string;
}

function Stat({ label, value, sub, icon: Icon, testId }: StatProps) {
  return (
    <Card className="p-4 sm:p-5">
      <div className="flex items-center justify-between text-sm text-muted-foreground">
        {label}
        <Icon className="size-4" aria-hidden="true" />
      </div>
      <div className="mt-2 text-2xl font-semibold tabular-nums tracking-tight" data-testid={testId}>
        {value}
      </div>
      {sub ? <div className="mt-1 text-xs text-muted-foreground">{sub}</div> : null}
    </Card>
  );
}

export function DashboardPage({ user }: Pick<PageProps, "user">) {
  const [days, setDays] = useRange();
  const overview = useApi(read("stats_overview", { query: { days } }));
  const series = useApi(read("stats_timeseries", { query: { days } }));
  const o = overview.data;
  const s = series.data ?? [];
  const loading = (overview.loading && !o) || (series.loading && !series.data);

  return (
    <>
      <PageIntro
        actions={
          <>
            <Button
              variant="outline"
              size="icon"
              aria-label="Refresh"
              title="Refresh"
              disabled={overview.loading || series.loading}
              onClick={() => (overview.reload(), series.reload())}
            >
              {overview.loading || series.loading ? <Spinner /> : <RotateCcw />}
            </Button>
            <RangePicker days={days} onChange={setDays} />
          </>
        }
      >
        {user.role === "admin" ? "Traffic through the gateway" : "Traffic of your client keys"}, per UTC day.
      </PageIntro>
      <ErrorNote error={overview.error || series.error} onRetry={() => (overview.reload(), series.reload())} className="mb-4" />
      {loading ? (
        <Loading />
      ) : (
        <div className="grid gap-4">
          {o && !o.requests ? <FirstRun admin={user.role === "admin"} /> : null}
          <div className="grid grid-cols-2 gap-3 sm:gap-4 xl:grid-cols-4">
            <Stat label="Requests" icon={Hash} value={formatNumber(o?.requests)} testId="stat-requests" sub={`${days} days`} />
            <Stat label="Tokens" icon={Zap} value={formatTokens(o?.tokens)} testId="stat-tokens" sub="input + output" />
            <Stat label="Cost" icon={Coins} value={formatCost(o?.cost_usd)} testId="stat-cost" sub="at plugin prices" />
            <Stat
              label="Upstream failures"
              icon={AlertTriangle}
              value={formatPercent(o?.server_error_rate)}
              testId="stat-error-rate"
              sub={`${formatNumber(o?.server_errors)} 5xx · ${clientErrors(o)} (4xx)`}
            />
          </div>
          <Card>
            <CardHeader title="Requests over time" description="All requests and those answered with an error status" />
            <CardBody data-testid="chart-requests">
              <ChartFigure summary={summarize(s, days)}>
                <RequestsChart data={s} />
              </ChartFigure>
            </CardBody>
          </Card>
          <div className="grid gap-4 lg:grid-cols-2">
            <Card>
              <CardHeader title="Tokens per day" />
              <CardBody data-testid="chart-tokens">
                <ChartFigure summary={`${formatTokens(o?.tokens)} tokens over the last ${days} days.`}>
                  <DailyBars data={s} dataKey="tokens" name="Tokens" />
                </ChartFigure>
              </CardBody>
            </Card>
            <Card>
              <CardHeader title="Cost per day" />
              <CardBody data-testid="chart-cost">
                <ChartFigure summary={`${formatCost(o?.cost_usd)} over the last ${days} days.`}>
                  <DailyBars data={s} dataKey="cost_usd" name="Cost" />
                </ChartFigure>
              </CardBody>
            </Card>
          </div>
          <div className="grid gap-4 lg:grid-cols-2">
            <Card>
              <CardHeader title="Top models" description="By requests" />
              <CardBody data-testid="top-models">
                <RankList items={o?.top_models} empty="No requests in this range." />
              </CardBody>
            </Card>
            <Card>
              <CardHeader title="Top client keys" description="By requests" />
              <CardBody data-testid="top-client-keys">
                <RankList items={o?.top_client_keys} empty="No requests in this range." />
              </CardBody>
            </Card>
          </div>
        </div>
      )}
    </>
  );
}
