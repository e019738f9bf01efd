// Finding upstream keys when there are many: a search over name,
// provider, secret hint and last error, and a provider filter.
import { Search } from "lucide-react";
import type { ReactNode } from "react";
import { Input, Select } from "../components/ui/input.tsx";
import type { Schema } from "../lib/client.ts";

/** Whether an upstream key matches the search text and the provider filter. */
export function matchesKey(
  k: Schema<"UpstreamKeyView">,
  query: string,
  providerId: string,
  providerName: (id: number) => string | null | undefined,
): boolean {
  if (providerId && k.provider_id !== Number(providerId)) return false;
  const q = query.trim().toLowerCase();
  if (!q) return true;
  return [k.name, providerName(k.provider_id), k.secret_hint, k.health?.last_error, k.health?.status ?? k.health_status]
    .filter(Boolean)
    .some((field) => String(field).toLowerCase().includes(q));
}

interface KeyFiltersProps {
  query: string;
  onQuery: (query: string) => void;
  /** The chosen provider's id as the select holds it; "" for all. */
  providerId: string;
  onProvider: (providerId: string) => void;
  providers: Pick<Schema<"ProviderView">, "id" | "name">[];
  shown: number;
  total: number;
  children?: ReactNode;
}

export function KeyFilters({ query, onQuery, providerId, onProvider, providers, shown, total, children }: KeyFiltersProps) {
  return (
    <div className="flex flex-wrap items-center gap-2 border-b p-3 sm:px-5" role="search" aria-label="Find upstream keys">
      <div className="relative min-w-[12rem] flex-1">
        <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden="true" />
        <Input
          aria-label="Search upstream keys"
          placeholder="Search name, provider, hint or error"
          value={query}
          onChange={(e) => onQuery(e.target.value)}
          className="pl-9"
          type="search"
        />
      </div>
      <Select aria-label="Filter by provider" value={providerId} onChange={(e) => onProvider(e.target.value)} className="w-44">
        <option value="">All providers</option>
        {providers.map((p) => (
          <option key={p.id} value={String(p.id)}>
            {p.name}
          </option>
        ))}
      </Select>
      {children}
      <p className="w-full text-xs text-muted-foreground" aria-live="polite" data-testid="key-count">
        {shown === total ? `${total} ${total === 1 ? "key" : "keys"}` : `${shown} of ${total} keys shown`}
      </p>
    </div>
  );
}
