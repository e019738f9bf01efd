// One client key, several providers: the dialog that lists the providers a
// key may use, each with its upstream key pool and how a request picks it
// (the API shape its plugin serves, a path prefix, or model prefixes).
// The gateway refuses a set in which one request could reach two
// providers; the dialog shows its answer, which names the conflict.
import { Plus, Trash2 } from "lucide-react";
import { useEffect, useState } from "react";
import { Button } from "../components/ui/button.tsx";
import { FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { ErrorNote, Loading } from "../components/ui/states.tsx";
import { useToast } from "../components/ui/toast.tsx";

import { parseList } from "../lib/query.ts";
import { useApi } from "../lib/use-api.ts";
import { call, read } from "../lib/client.ts";
import type { Schema } from "../lib/client.ts";

/** The `PUT .../providers` body from the dialog's form: one entry per row, in order. */
export function routesInput(form: Pick<FormData, "get" | "getAll">): Schema<"KeyProviders"> {
  const rows = form.getAll("route_row").map(String);
  const providers = rows.map((row) => {
    const prefix = String(form.get(`route_path_prefix_${row}`) ?? "").trim();
    return {
      provider_id: Number(form.get(`route_provider_${row}`)),
      upstream_key_ids: form.getAll(`route_pool_${row}`).map(Number),
      path_prefix: prefix || null,
      model_prefixes: parseList(form.get(`route_models_${row}`)),
    };
  });
  return { providers };
}

/** A provider row of the dialog: what is known of it, and the row's own number (its form field names). */
type Route = Partial<Schema<"KeyProvider">> & { row: number };

let nextRow = 0;
const withRow = (route: Partial<Schema<"KeyProvider">>): Route => ({ ...route, row: nextRow++ });

type ProviderChoice = Pick<Schema<"ProviderView">, "id" | "name">;
type KeyChoice = Pick<Schema<"UpstreamKeyView">, "id" | "name" | "provider_id">;

interface RouteFieldsProps {
  route: Route;
  providers: ProviderChoice[];
  upstreamKeys: KeyChoice[] | null | undefined;
  onRemove: () => void;
}

/** One provider of the key: which, its pool, and its prefixes. */
export function RouteFields({ route, providers, upstreamKeys, onRemove }: RouteFieldsProps) {
  const [providerId, setProviderId] = useState(route.provider_id ?? providers[0]?.id);
  const pool = new Set(route.upstream_key_ids ?? []);
  const candidates = (upstreamKeys ?? []).filter((k) => k.provider_id === Number(providerId));
  const row = route.row;
  return (
    <fieldset className="grid gap-2 rounded-md border p-3" data-testid="key-provider-row">
      <input type="hidden" name="route_row" value={row} />
      <div className="flex items-end gap-2">
        <Field label="Provider" className="flex-1">
          {(id) => (
            <Select id={id} name={`route_provider_${row}`} value={providerId} onChange={(e) => setProviderId(Number(e.target.value))}>
              {providers.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Button variant="ghost" size="icon" aria-label="Remove this provider" onClick={onRemove}>
          <Trash2 className="text-destructive" />
        </Button>
      </div>
      <div className="grid max-h-32 gap-1 overflow-y-auto">
        {candidates.length ? (
          candidates.map((k) => (
            <label key={k.id} className="flex items-center gap-2 text-sm">
              <input type="checkbox" name={`route_pool_${row}`} value={k.id} defaultChecked={pool.has(k.id)} className="size-4" />
              {k.name}
            </label>
          ))
        ) : (
          <p className="text-sm text-muted-foreground">This provider has no upstream keys yet.</p>
        )}
      </div>
      <Field label="Path prefix" hint="Optional, e.g. deepseek: requests to /deepseek/v1/… go here, and only those.">
        {(id) => <Input id={id} name={`route_path_prefix_${row}`} defaultValue={route.path_prefix ?? ""} maxLength={64} autoComplete="off" />}
      </Field>
      <Field label="Model prefixes" hint="Optional, e.g. claude-: picks this provider when several serve the same path.">
        {(id) => <Input id={id} name={`route_models_${row}`} defaultValue={(route.model_prefixes ?? []).join(", ")} autoComplete="off" />}
      </Field>
    </fieldset>
  );
}

/** The providers of `keyRow`, editable; `onClose` after saving or cancelling. */
interface KeyProvidersDialogProps {
  keyRow: Schema<"ClientKeyView"> | null;
  providers: ProviderChoice[];
  upstreamKeys: KeyChoice[] | null | undefined;
  /** `saved` says whether the providers changed. */
  onClose: (saved: boolean) => void;
}

export function KeyProvidersDialog({ keyRow, providers, upstreamKeys, onClose }: KeyProvidersDialogProps) {
  const stored = useApi(keyRow ? read("client_keys_get_providers", { path: { id: keyRow.id } }) : null);
  const toast = useToast();
  const [routes, setRoutes] = useState<Route[] | null>(null);
  useEffect(() => {
    if (!stored.data || !keyRow) return;
    const list: Partial<Schema<"KeyProvider">>[] = stored.data.providers.length
      ? stored.data.providers
      : [{ provider_id: keyRow.provider_id, upstream_key_ids: keyRow.upstream_key_ids, path_prefix: null, model_prefixes: [] }];
    setRoutes(list.map(withRow));
  }, [stored.data, keyRow]);
  if (!keyRow) return null;
  const save = async (form: FormData) => {
    const body = routesInput(form);
    await call("client_keys_put_providers", { path: { id: keyRow.id }, body });
    toast(`${keyRow.name}: ${body.providers.length} provider(s) saved.`);
    onClose(true);
  };
  return (
    <FormDialog
      open
      wide
      onOpenChange={(o) => !o && onClose(false)}
      title={`Providers of ${keyRow.name}`}
      description="A request goes to the provider whose API shape it uses (/v1/messages: Anthropic), or whose path prefix or model prefix it names. The first provider is the key's own."
      submitLabel="Save providers"
      onSubmit={save}
    >
      <ErrorNote error={stored.error} onRetry={stored.reload} />
      {!routes ? (
        <Loading />
      ) : (
        <>
          {routes.map((route) => (
            <RouteFields
              key={route.row}
              route={route}
              providers={providers}
              upstreamKeys={upstreamKeys}
              onRemove={() => setRoutes(routes.filter((r) => r.row !== route.row))}
            />
          ))}
          <Button variant="outline" onClick={() => setRoutes([...routes, withRow({ provider_id: providers[0]?.id })])}>
            <Plus /> Add a provider
          </Button>
        </>
      )}
    </FormDialog>
  );
}
