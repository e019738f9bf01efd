// The charts of charts.tsx, loaded with Recharts the first time one is
// drawn. Until then a placeholder of the chart's height holds its place,
// so nothing below it jumps.
import type { ComponentType } from "react";
import { Deferred, lazyNamed } from "./lazy.tsx";
import { Spinner } from "./ui/states.tsx";

const load = () => import("./charts.tsx");
const Requests = lazyNamed(load, "RequestsChart");
const Bars = lazyNamed(load, "DailyBars");
const Lines = lazyNamed(load, "TrendLines");
const Latency = lazyNamed(load, "LatencyLine");

function Placeholder({ height }: { height: number }) {
  return (
    <div style={{ height }} className="flex w-full items-center justify-center rounded-md bg-muted/40" role="status" aria-label="Loading chart">
      <Spinner className="text-muted-foreground" />
    </div>
  );
}

function deferred<P extends { height?: number }>(Chart: ComponentType<P>, defaultHeight: number): ComponentType<P> {
  return function DeferredChart(props: P) {
    const height = props.height ?? defaultHeight;
    return (
      <Deferred fallback={<Placeholder height={height} />}>
        <Chart {...props} height={height} />
      </Deferred>
    );
  };
}

/** Requests and errors per day (see charts.tsx). */
export const RequestsChart = deferred(Requests, 240);
/** One measure per day as bars (see charts.tsx). */
export const DailyBars = deferred(Bars, 200);
/** Requests against cost or tokens as lines (see charts.tsx). */
export const TrendLines = deferred(Lines, 220);
/** Mean latency per day (see charts.tsx). */
export const LatencyLine = deferred(Latency, 200);
