// The one time range picker of every trend (dashboard, upstream and
// client key charts): the same choices everywhere, and the last choice
// remembered, so two charts side by side never cover different days.
import { useState, type ReactNode } from "react";
import { RANGES, storeRange, storedRange } from "../lib/series.ts";
import { Select } from "./ui/input.tsx";

/** The shared range in days and its setter. */
export function useRange(): [number, (days: number) => void] {
  const [days, setDays] = useState(() => storedRange());
  const set = (d: number) => {
    storeRange(d);
    setDays(d);
  };
  return [days, set];
}

export function RangePicker({ days, onChange, className }: { days: number; onChange: (days: number) => void; className?: string }) {
  return (
    <Select aria-label="Time range" value={days} onChange={(e) => onChange(Number(e.target.value))} className={className ?? "w-40"}>
      {RANGES.map((d) => (
        <option key={d} value={d}>
          Last {d} days
        </option>
      ))}
    </Select>
  );
}

/** A chart with its words: the summary is the chart's text alternative and visible to all. */
export function ChartFigure({ summary, children, testId }: { summary: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <figure className="grid gap-2" data-testid={testId}>
      <div aria-hidden="true">{children}</div>
      <figcaption className="text-xs text-muted-foreground" data-testid="chart-summary">
        {summary}
      </figcaption>
    </figure>
  );
}
