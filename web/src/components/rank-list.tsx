// A ranked list with proportional bars, in plain markup: the dashboard
// shows it without waiting for the charting library.
import { formatCost, formatNumber, formatTokens } from "../lib/format.ts";
import type { Schema } from "../lib/client.ts";

/** A ranked list with proportional bars: top models, top client keys. */
export function RankList({ items, empty = "Nothing yet." }: { items: Schema<"TopEntry">[] | null | undefined; empty?: string }) {
  if (!items?.length) return <p className="py-6 text-center text-sm text-muted-foreground">{empty}</p>;
  const max = Math.max(...items.map((i) => i.requests), 1);
  return (
    <ul className="grid gap-3">
      {items.map((item) => (
        <li key={item.name} className="grid gap-1">
          <div className="flex items-baseline justify-between gap-3 text-sm">
            <span className="truncate font-medium" title={item.name}>
              {item.name}
            </span>
            <span className="shrink-0 tabular-nums text-muted-foreground">
              {formatNumber(item.requests)} req · {formatTokens(item.tokens)} tok · {formatCost(item.cost_usd)}
            </span>
          </div>
          <div className="h-1.5 overflow-hidden rounded-full bg-muted">
            <div className="h-full rounded-full bg-primary" style={{ width: `${(item.requests / max) * 100}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}
