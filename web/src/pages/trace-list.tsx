// The rows of the request log: cards on a phone, a table on wider
// screens; the time column names the zone, a failure its error class.
import { Badge } from "../components/ui/badge.tsx";
import { Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { cn } from "../lib/cn.ts";
import { formatCost, formatDateTime, formatDuration, formatTokens, statusTone } from "../lib/format.ts";
import type { Schema } from "../lib/client.ts";

interface TraceListProps {
  items: Schema<"TraceSummary">[];
  /** The browser's time zone in words, for the time column's header. */
  zone: string;
  /** Faded while a newer page loads. */
  dim?: boolean;
  onOpen: (id: number) => void;
}

export function TraceList({ items, zone, dim, onOpen }: TraceListProps) {
  return (
    <>
      <ul className={cn("divide-y sm:hidden", dim && "opacity-60")} data-testid="trace-cards">
        {items.map((t) => (
          <li key={t.id}>
            <button
              type="button"
              onClick={() => onOpen(t.id)}
              aria-label={`Trace ${t.id}`}
              className="grid w-full gap-1 px-4 py-3 text-left text-sm hover:bg-muted/60 focus-visible:bg-muted/60 focus-visible:outline-none"
            >
              <span className="flex items-center gap-2">
                <Badge tone={statusTone(t.status_code)}>{t.status_code}</Badge>
                <span className="min-w-0 flex-1 truncate font-medium">{t.model ?? "—"}</span>
                <span className="tabular-nums">{formatCost(t.cost_usd)}</span>
              </span>
              <span className="flex justify-between gap-2 text-xs text-muted-foreground">
                <span className="truncate">
                  {formatDateTime(t.created_at)} · {t.client_key_name ?? "no key"}
                </span>
                <span className="shrink-0 tabular-nums">
                  {formatTokens(t.total_tokens)} tok · {formatDuration(t.duration_ms)}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <Table minWidth={980} wrapperClassName="hidden sm:block" className={dim ? "opacity-60" : undefined}>
        <thead>
          <tr>
            <Th>Time ({zone})</Th>
            <Th>Status</Th>
            <Th>Model</Th>
            <Th>Provider</Th>
            <Th>Upstream key</Th>
            <Th>Client key</Th>
            <Th className="text-right">Tokens in / out</Th>
            <Th className="text-right">Cost</Th>
            <Th className="text-right">Duration</Th>
          </tr>
        </thead>
        <tbody data-testid="trace-rows">
          {items.map((t) => (
            <Tr key={t.id} onClick={() => onOpen(t.id)} aria-label={`Trace ${t.id}`}>
              <Td className="whitespace-nowrap tabular-nums text-muted-foreground">{formatDateTime(t.created_at)}</Td>
              <Td>
                <Badge tone={statusTone(t.status_code)}>{t.status_code}</Badge>
                {t.error_class ? <div className="mt-0.5 text-xs text-muted-foreground">{t.error_class.replaceAll("_", " ")}</div> : null}
              </Td>
              <Td className="max-w-[220px] truncate font-medium">
                {t.model ?? "—"}
                {t.is_stream ? <span className="ml-1.5 text-xs font-normal text-muted-foreground">stream</span> : null}
              </Td>
              <Td className="whitespace-nowrap">{t.provider_name ?? "—"}</Td>
              <Td className="whitespace-nowrap">{t.upstream_key_name ?? "—"}</Td>
              <Td className="whitespace-nowrap">{t.client_key_name ?? "—"}</Td>
              <Td className="whitespace-nowrap text-right tabular-nums">
                {formatTokens(t.input_tokens)} / {formatTokens(t.output_tokens)}
              </Td>
              <Td className="whitespace-nowrap text-right tabular-nums">{formatCost(t.cost_usd)}</Td>
              <Td className="whitespace-nowrap text-right tabular-nums">{formatDuration(t.duration_ms)}</Td>
            </Tr>
          ))}
        </tbody>
      </Table>
    </>
  );
}
