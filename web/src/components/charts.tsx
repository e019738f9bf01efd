// Charts of per-day series ({date, requests, errors, tokens, cost_usd}) on
// Recharts, coloured by the theme's --chart-N variables so they follow
// dark mode. Pages take them from lazy-charts.tsx, which loads this module
// (and Recharts with it) the first time a chart is drawn.
import {
  Area,
  AreaChart,
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { ReactElement } from "react";
import { formatCost, formatDay, formatDuration, formatNumber, formatTokens } from "../lib/format.ts";
import type { Day } from "../lib/series.ts";

/** A measure of a day that a chart draws. */
export type Measure = "requests" | "errors" | "server_errors" | "tokens" | "cost_usd" | "latency_ms";

type Formatter = (n: number | null | undefined) => string;

export const COLORS = {
  requests: "hsl(var(--chart-1))",
  tokens: "hsl(var(--chart-2))",
  cost: "hsl(var(--chart-3))",
  errors: "hsl(var(--chart-4))",
};

const AXIS = { stroke: "hsl(var(--muted-foreground))", fontSize: 11, tickLine: false, axisLine: false };

/** One drawn series under the pointer, as Recharts hands it to a tooltip. */
interface Hovered {
  dataKey?: string | number | ((d: unknown) => unknown);
  name?: string | number;
  value?: number | string | (number | string)[];
  color?: string;
}

interface TooltipProps {
  active?: boolean;
  payload?: Hovered[];
  label?: string;
  formatters: Record<string, Formatter>;
}

function ChartTooltip({ active, payload, label, formatters }: TooltipProps) {
  if (!active || !payload?.length) return null;
  return (
    <div className="rounded-md border bg-card px-3 py-2 text-xs shadow-md">
      <p className="mb-1 font-medium">{formatDay(label)}</p>
      {payload.map((p) => (
        <p key={String(p.dataKey)} className="flex items-center gap-2">
          <span className="inline-block size-2 rounded-full" style={{ background: p.color }} />
          <span className="text-muted-foreground">{p.name}</span>
          <span className="ml-auto pl-3 font-medium tabular-nums">{(formatters[String(p.dataKey)] ?? formatNumber)(typeof p.value === "number" ? p.value : null)}</span>
        </p>
      ))}
    </div>
  );
}

const FORMATTERS: Record<Measure, Formatter> = { requests: formatNumber, errors: formatNumber, server_errors: formatNumber, tokens: formatTokens, cost_usd: formatCost, latency_ms: formatDuration };

/** Whether a series has nothing to draw for this measure. */
export function isFlat(data: Day[] | null | undefined, key: Measure): boolean {
  return !data?.some((d) => d[key]);
}

function frame(children: ReactElement, height: number, flat = false) {
  return (
    <div style={{ height }} className="relative w-full">
      <ResponsiveContainer width="100%" height="100%">
        {children}
      </ResponsiveContainer>
      {flat ? (
        <p className="pointer-events-none absolute inset-x-0 top-1/3 text-center text-sm text-muted-foreground">
          Nothing in this range yet.
        </p>
      ) : null}
    </div>
  );
}

/** Requests and errors per day, stacked areas. */
interface ChartProps {
  data: Day[];
  height?: number;
}

export function RequestsChart({ data, height = 240 }: ChartProps) {
  return frame(
    <AreaChart data={data} margin={{ top: 8, right: 8, left: -12, bottom: 0 }}>
      <defs>
        <linearGradient id="fill-requests" x1="0" y1="0" x2="0" y2="1">
          <stop offset="5%" stopColor={COLORS.requests} stopOpacity={0.35} />
          <stop offset="95%" stopColor={COLORS.requests} stopOpacity={0.02} />
        </linearGradient>
      </defs>
      <CartesianGrid vertical={false} stroke="hsl(var(--border))" />
      <XAxis dataKey="date" tickFormatter={formatDay} {...AXIS} minTickGap={16} />
      <YAxis allowDecimals={false} tickFormatter={formatTokens} {...AXIS} width={48} />
      <Tooltip content={<ChartTooltip formatters={FORMATTERS} />} />
      <Legend wrapperStyle={{ fontSize: 12 }} />
      <Area isAnimationActive={false} type="monotone" dataKey="requests" name="Requests" stroke={COLORS.requests} fill="url(#fill-requests)" strokeWidth={2} />
      <Area isAnimationActive={false} type="monotone" dataKey="errors" name="Errors" stroke={COLORS.errors} fill={COLORS.errors} fillOpacity={0.15} strokeWidth={2} />
    </AreaChart>,
    height,
    isFlat(data, "requests"),
  );
}

/** One measure per day as bars. */
export function DailyBars({ data, dataKey, name, height = 200 }: ChartProps & { dataKey: Measure; name: string }) {
  const color = dataKey === "cost_usd" ? COLORS.cost : dataKey === "tokens" ? COLORS.tokens : COLORS.requests;
  const fmt = FORMATTERS[dataKey] ?? formatNumber;
  return frame(
    <BarChart data={data} margin={{ top: 8, right: 8, left: dataKey === "cost_usd" ? 0 : -12, bottom: 0 }}>
      <CartesianGrid vertical={false} stroke="hsl(var(--border))" />
      <XAxis dataKey="date" tickFormatter={formatDay} {...AXIS} minTickGap={16} />
      <YAxis tickFormatter={dataKey === "cost_usd" ? formatCost : formatTokens} {...AXIS} width={dataKey === "cost_usd" ? 72 : 56} />
      <Tooltip cursor={{ fill: "hsl(var(--muted))" }} content={<ChartTooltip formatters={FORMATTERS} />} />
      <Bar isAnimationActive={false} dataKey={dataKey} name={name} fill={color} radius={[3, 3, 0, 0]} maxBarSize={32} />
    </BarChart>,
    height,
    isFlat(data, dataKey),
  );
}

/**
 * Requests (left axis) against cost or tokens (right axis) as lines: the
 * combined trend of one key.
 */
export function TrendLines({ data, second = "cost_usd", height = 220 }: ChartProps & { second?: "cost_usd" | "tokens" }) {
  const secondName = second === "cost_usd" ? "Cost" : "Tokens";
  return frame(
    <LineChart data={data} margin={{ top: 8, right: 0, left: -12, bottom: 0 }}>
      <CartesianGrid vertical={false} stroke="hsl(var(--border))" />
      <XAxis dataKey="date" tickFormatter={formatDay} {...AXIS} minTickGap={16} />
      <YAxis yAxisId="left" allowDecimals={false} tickFormatter={formatTokens} {...AXIS} width={44} />
      <YAxis yAxisId="right" orientation="right" tickFormatter={second === "cost_usd" ? formatCost : formatTokens} {...AXIS} width={72} />
      <Tooltip content={<ChartTooltip formatters={FORMATTERS} />} />
      <Legend wrapperStyle={{ fontSize: 12 }} />
      <Line isAnimationActive={false} yAxisId="left" type="monotone" dataKey="requests" name="Requests" stroke={COLORS.requests} strokeWidth={2} dot={false} />
      <Line
        isAnimationActive={false}
        yAxisId="right"
        type="monotone"
        dataKey={second}
        name={secondName}
        stroke={second === "cost_usd" ? COLORS.cost : COLORS.tokens}
        strokeWidth={2}
        dot={false}
      />
    </LineChart>,
    height,
    isFlat(data, "requests"),
  );
}

/** Mean latency per day as a line. */
export function LatencyLine({ data, height = 200 }: ChartProps) {
  return frame(
    <LineChart data={data} margin={{ top: 8, right: 8, left: 0, bottom: 0 }}>
      <CartesianGrid vertical={false} stroke="hsl(var(--border))" />
      <XAxis dataKey="date" tickFormatter={formatDay} {...AXIS} minTickGap={16} />
      <YAxis tickFormatter={formatDuration} {...AXIS} width={64} />
      <Tooltip content={<ChartTooltip formatters={FORMATTERS} />} />
      <Line isAnimationActive={false} type="monotone" dataKey="latency_ms" name="Mean latency" stroke={COLORS.tokens} strokeWidth={2} dot={false} />
    </LineChart>,
    height,
    isFlat(data, "requests"),
  );
}
