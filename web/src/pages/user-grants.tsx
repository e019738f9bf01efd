// What an admin grants a `user` account: the providers (every upstream key
// of each) and the single upstream keys its client keys may pool, and the
// default limits of keys it creates. Saving replaces the whole grant.
import { LimitFields } from "../components/limit-fields.tsx";
import { FormDialog } from "../components/ui/dialog.tsx";
import { ErrorNote, Loading } from "../components/ui/states.tsx";

import { CLIENT_LIMITS, limitsFromForm } from "../lib/limits.ts";
import { useApi } from "../lib/use-api.ts";
import { call, read } from "../lib/client.ts";
import type { Schema } from "../lib/client.ts";

/** The grant a form (anything with `get` and `getAll`) describes. */
export function grantsInput(form: Pick<FormData, "get" | "getAll">): Schema<"GrantsInput"> {
  return {
    provider_ids: form.getAll("grant_provider").map(Number),
    upstream_key_ids: form.getAll("grant_key").map(Number),
    default_limits: limitsFromForm(form, CLIENT_LIMITS),
  };
}

/** The checkboxes of a grant: each provider, and its upstream keys below it. */
interface GrantChoicesProps {
  grant: Schema<"GrantsView"> | null | undefined;
  providers: Pick<Schema<"ProviderView">, "id" | "name">[];
  upstreamKeys: Pick<Schema<"UpstreamKeyView">, "id" | "name" | "provider_id">[];
}

export function GrantChoices({ grant, providers, upstreamKeys }: GrantChoicesProps) {
  const wholeProviders = new Set(grant?.provider_ids ?? []);
  const keys = new Set(grant?.upstream_key_ids ?? []);
  return (
    <fieldset className="grid gap-2">
      <legend className="mb-1 text-sm font-medium">Upstream keys it may pool</legend>
      <div className="grid max-h-56 gap-1 overflow-y-auto rounded-md border p-2">
        {providers.map((p) => (
          <div key={p.id} className="grid gap-1">
            <label className="flex items-center gap-2 rounded px-1 py-1 text-sm font-medium hover:bg-muted">
              <input type="checkbox" name="grant_provider" value={p.id} defaultChecked={wholeProviders.has(p.id)} className="size-4" />
              {p.name}: every key, also keys added later
            </label>
            {upstreamKeys
              .filter((k) => k.provider_id === p.id)
              .map((k) => (
                <label key={k.id} className="ml-6 flex items-center gap-2 rounded px-1 py-1 text-sm hover:bg-muted">
                  <input type="checkbox" name="grant_key" value={k.id} defaultChecked={keys.has(k.id)} className="size-4" />
                  {k.name}
                </label>
              ))}
          </div>
        ))}
      </div>
    </fieldset>
  );
}

interface GrantsDialogProps {
  account: Schema<"UserView">;
  onClose: () => void;
  onSaved: (message: string) => void;
}

export function GrantsDialog({ account, onClose, onSaved }: GrantsDialogProps) {
  const grant = useApi(read("users_get_grants", { path: { id: account.id } }));
  const providers = useApi(read("providers_list"));
  const upstream = useApi(read("upstream_keys_list"));
  const ready = Boolean(grant.data && providers.data && upstream.data);
  const save = async (form: FormData) => {
    // Saving replaces the whole grant: never from a form that has not loaded it.
    if (!ready) throw new Error("The grant is still loading.");
    await call("users_put_grants", { path: { id: account.id }, body: grantsInput(form) });
    onSaved(`Grants of ${account.username} saved.`);
  };
  return (
    <FormDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={`Grants of ${account.username}`}
      description="Its client keys pool only these upstream keys; keys it creates get these limits, or lower ones it asks for."
      submitLabel="Save grants"
      onSubmit={save}
      wide
    >
      <ErrorNote error={grant.error || providers.error || upstream.error} onRetry={grant.reload} />
      {grant.data && providers.data && upstream.data ? (
        <>
          <GrantChoices grant={grant.data} providers={providers.data} upstreamKeys={upstream.data} />
          <LimitFields specs={CLIENT_LIMITS} limits={grant.data.default_limits} legend="Default limits of its new keys" />
        </>
      ) : (
        <Loading />
      )}
    </FormDialog>
  );
}
