// Client keys: create (the key is shown once, with the gateway's base URL,
// SDK snippets and a test request), edit pool and strategy, limits,
// allowed models, expiry and state, revoke, trends with cost and limit
// use; and the OAuth clients that mint tokens for them.
import { LineChart, Network, Pencil, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { PageIntro, type PageProps } from "../components/layout.tsx";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { ConfirmDialog, FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select, Textarea } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Switch } from "../components/ui/switch.tsx";
import { STICKY_END, Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { formatDateTime } from "../lib/format.ts";
import { localToIso, parseList } from "../lib/query.ts";
import { isoToLocal } from "../lib/time.ts";
import { CLIENT_LIMITS, STRATEGIES, describeLimits, limitsFromForm, strategyLabel } from "../lib/limits.ts";
import { LimitFields } from "../components/limit-fields.tsx";
import { OAuthClients } from "./oauth-clients.tsx";
import { CreatedKeyDialog } from "./created-key.tsx";
import { KeyProvidersDialog } from "./key-providers.tsx";
import { ClientTrendsDialog } from "./key-trends.tsx";
import { useApi } from "../lib/use-api.ts";
import { cn } from "../lib/cn.ts";
import { call, read } from "../lib/client.ts";
import type { Schema, BodyOf } from "../lib/client.ts";

type Key = Schema<"ClientKeyView">;

interface KeyFormProps {
  keyRow: Key | null;
  providers: Schema<"ProviderView">[];
  /** The upstream keys to pool; null for a user account, which may not list them. */
  upstreamKeys: Schema<"UpstreamKeyView">[] | null;
  admin: boolean;
}

function KeyForm({ keyRow, providers, upstreamKeys, admin }: KeyFormProps) {
  const [providerId, setProviderId] = useState(keyRow?.provider_id ?? providers[0]?.id);
  const [strategy, setStrategy] = useState(keyRow?.strategy ?? "round_robin");
  const pool = new Set(keyRow?.upstream_key_ids ?? []);
  const candidates = (upstreamKeys ?? []).filter((k) => k.provider_id === Number(providerId));
  return (
    <>
      <Field label="Name" hint="Who or what uses this key, e.g. my-app.">
        {(id) => <Input id={id} name="name" defaultValue={keyRow?.name} required maxLength={128} autoComplete="off" />}
      </Field>
      <Field label="Provider" hint={keyRow ? "A client key cannot move to another provider." : undefined}>
        {(id) => (
          <Select id={id} name="provider_id" value={providerId} onChange={(e) => setProviderId(Number(e.target.value))} disabled={Boolean(keyRow)}>
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {admin ? (
        <fieldset className="grid gap-2">
          <legend className="mb-1 text-sm font-medium">Upstream key pool</legend>
          {candidates.length ? (
            <div className="grid max-h-40 gap-1 overflow-y-auto rounded-md border p-2">
              {candidates.map((k) => (
                <label key={k.id} className="flex items-center gap-2 rounded px-1 py-1 text-sm hover:bg-muted">
                  <input type="checkbox" name="pool" value={k.id} defaultChecked={pool.has(k.id)} className="size-4 accent-[hsl(var(--primary))]" />
                  {k.name}
                  <code className="ml-auto text-xs text-muted-foreground">{k.secret_hint}</code>
                  {!k.enabled ? <Badge>disabled</Badge> : null}
                </label>
              ))}
            </div>
          ) : (
            <p className="text-sm text-muted-foreground">This provider has no upstream keys yet; add one under Upstream Keys.</p>
          )}
          <Field label="Strategy" hint={STRATEGIES.find((x) => x.value === strategy)?.hint}>
            {(id) => (
              <Select id={id} name="strategy" value={strategy} onChange={(e) => setStrategy(e.target.value)}>
                {STRATEGIES.map((x) => (
                  <option key={x.value} value={x.value}>
                    {x.label}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </fieldset>
      ) : null}
      {admin ? <LimitFields specs={CLIENT_LIMITS} limits={keyRow?.limits} /> : null}
      {admin ? <EndpointClassFields granted={keyRow?.endpoint_classes ?? DEFAULT_ENDPOINT_CLASSES} /> : null}
      <Field label="Allowed models" hint="Empty allows every model. One per line or comma-separated; gpt-4o* matches a prefix.">
        {(id) => <Textarea id={id} name="allowed_models" defaultValue={(keyRow?.allowed_models ?? []).join("\n")} rows={3} />}
      </Field>
      {!admin ? (
        <p className="text-sm text-muted-foreground">
          The key draws from the upstream keys granted to your account, with your default limits. You can narrow its models or move its expiry
          earlier; an admin widens them.
        </p>
      ) : null}
      <Field label="Expires" hint={keyRow?.expires_at ? "The gateway cannot remove an expiry once set; move it instead." : "Empty never expires."}>
        {(id) => <Input id={id} name="expires_at" type="datetime-local" defaultValue={isoToLocal(keyRow?.expires_at)} />}
      </Field>
    </>
  );
}

/** The classes of provider endpoint a key may be granted, as the API names them. */
const ENDPOINT_CLASSES: { value: string; label: string; hint?: string }[] = [
  { value: "inference", label: "Inference", hint: "chat, completions, messages, images, audio" },
  { value: "embeddings", label: "Embeddings" },
  { value: "models", label: "Models", hint: "listing models" },
  { value: "token_counting", label: "Token counting" },
  { value: "files", label: "Files", hint: "shared by every key of the upstream account" },
  { value: "batches", label: "Batches" },
  { value: "fine_tuning", label: "Fine-tuning" },
  { value: "other", label: "Other", hint: "anything the plugin does not classify" },
];
const DEFAULT_ENDPOINT_CLASSES = ["inference", "embeddings", "models", "token_counting"];

function EndpointClassFields({ granted }: { granted: string[] }) {
  const on = new Set(granted);
  return (
    <fieldset className="grid gap-2">
      <legend className="mb-1 text-sm font-medium">Endpoint classes</legend>
      <input type="hidden" name="endpoint_classes_shown" value="1" />
      <p className="text-sm text-muted-foreground">
        What the key may call at the provider; anything else is refused before it reaches the upstream.
      </p>
      <div className="grid grid-cols-2 gap-1 rounded-md border p-2">
        {ENDPOINT_CLASSES.map((c) => (
          <label key={c.value} className="flex items-center gap-2 rounded px-1 py-1 text-sm hover:bg-muted" title={c.hint}>
            <input
              type="checkbox"
              name="endpoint_class"
              value={c.value}
              defaultChecked={on.has(c.value)}
              className="size-4 accent-[hsl(var(--primary))]"
            />
            {c.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function keyInput(form: FormData, editing: boolean): Schema<"ClientKeyInput"> {
  const body: Schema<"ClientKeyInput"> = { name: String(form.get("name") ?? "").trim() };
  if (!body.name) throw new Error("Give the key a name.");
  if (!editing) body.provider_id = Number(form.get("provider_id"));
  body.upstream_key_ids = form.getAll("pool").map(Number);
  if (form.get("strategy")) body.strategy = String(form.get("strategy"));
  if (form.get("limit_requests_per_second") !== null) body.limits = limitsFromForm(form, CLIENT_LIMITS);
  body.allowed_models = parseList(form.get("allowed_models"));
  if (form.get("endpoint_classes_shown")) body.endpoint_classes = form.getAll("endpoint_class").map(String);
  const expires = String(form.get("expires_at") ?? "");
  if (expires) {
    const iso = localToIso(expires);
    if (!iso) throw new Error("The expiry is not a valid time.");
    if (new Date(iso) <= new Date()) throw new Error("The expiry must be in the future.");
    body.expires_at = iso;
  }
  return body;
}

export function ClientKeysPage({ user }: Pick<PageProps, "user">) {
  const admin = user.role === "admin";
  const keys = useApi(read("client_keys_list"));
  const providers = useApi(read("providers_list"));
  const upstream = useApi(admin ? read("upstream_keys_list") : null);
  const toast = useToast();
  const [editing, setEditing] = useState<Key | "new" | null>(null);
  const [created, setCreated] = useState<Key | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const [trends, setTrends] = useState<Key | null>(null);
  const [routing, setRouting] = useState<Key | null>(null);
  const providerName = (id: number) => providers.data?.find((p) => p.id === id)?.name ?? `#${id}`;
  const upstreamName = (id: number) => upstream.data?.find((k) => k.id === id)?.name ?? `#${id}`;

  const save = async (form: FormData) => {
    const current = editing === "new" ? null : editing;
    const isNew = !current;
    const body = keyInput(form, !isNew);
    if (!admin) delete body.upstream_key_ids; // the pool, strategy and limits are the operator's
    const answer = await (current
      ? call("client_keys_update", { path: { id: current.id }, body })
      : call("client_keys_create", { body: body as BodyOf<"client_keys_create"> }));
    setEditing(null);
    if (isNew) setCreated(answer);
    else toast(`${body.name} saved.`);
    keys.reload();
  };

  const setEnabled = async (k: Key, enabled: boolean) => {
    try {
      await call("client_keys_update", { path: { id: k.id }, body: { enabled } });
      toast(`${k.name} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    keys.reload();
  };

  const expired = (k: Key) => k.expires_at && new Date(k.expires_at) <= new Date();
  // Only an admin can enable a key an admin disabled.
  const lockedOff = (k: Key) => !admin && !k.enabled && k.disabled_by_admin;

  return (
    <>
      <PageIntro
        actions={
          <Button onClick={() => setEditing("new")} disabled={!providers.data?.length}>
            <Plus /> Create client key
          </Button>
        }
      >
        Keys your applications send to the proxy. Each belongs to one provider and draws from a pool of upstream keys.
      </PageIntro>
      <Card>
        <ErrorNote error={keys.error || providers.error} onRetry={keys.reload} className="m-4" />
        {keys.loading && !keys.data ? (
          <Loading />
        ) : !keys.data?.length ? (
          <Empty title="No client keys yet" action={<Button onClick={() => setEditing("new")}>Create the first key</Button>}>
            Create a key for each application; its requests then show up in the logs under its name.
          </Empty>
        ) : (
          <Table minWidth={900}>
            <thead>
              <tr>
                <Th>Name</Th>
                <Th>Pool</Th>
                <Th>Limits</Th>
                <Th>Models</Th>
                <Th>Expires</Th>
                <Th>Enabled</Th>
                <Th className={cn("text-right", STICKY_END)}>Actions</Th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <Tr key={k.id} data-testid={`client-key-${k.name}`}>
                  <Td primary className="max-w-[200px] whitespace-normal break-words">
                    <div className="font-medium">{k.name}</div>
                    <div className="text-xs text-muted-foreground">
                      <code>{k.key_prefix}…</code> · {providerName(k.provider_id)}
                    </div>
                  </Td>
                  <Td label="Pool" className="min-w-[160px] max-w-[220px] whitespace-normal">
                    {k.upstream_key_ids.length ? (
                      <span className="line-clamp-2 text-sm">{k.upstream_key_ids.map(upstreamName).join(", ")}</span>
                    ) : (
                      <span className="text-muted-foreground">empty</span>
                    )}
                    <div className="text-xs text-muted-foreground" data-testid="client-key-strategy">{strategyLabel(k.strategy)}</div>
                  </Td>
                  <Td label="Limits" className="min-w-[110px] max-w-[170px] whitespace-normal" data-testid="client-key-limits">
                    {describeLimits(k.limits).length ? (
                      <div className="flex flex-wrap gap-1 max-sm:justify-end">
                        {describeLimits(k.limits).map((l) => (
                          <Badge key={l} tone="outline">
                            {l}
                          </Badge>
                        ))}
                      </div>
                    ) : (
                      <span className="text-muted-foreground">unlimited</span>
                    )}
                  </Td>
                  <Td label="Models" className="min-w-[120px] max-w-[180px] whitespace-normal">
                    {k.allowed_models.length ? (
                      <span className="line-clamp-2 text-sm">{k.allowed_models.join(", ")}</span>
                    ) : (
                      <span className="text-muted-foreground">all</span>
                    )}
                  </Td>
                  <Td label="Expires" className="whitespace-nowrap">
                    {k.expires_at ? (
                      expired(k) ? <Badge tone="danger">expired</Badge> : formatDateTime(k.expires_at)
                    ) : (
                      <span className="text-muted-foreground">never</span>
                    )}
                  </Td>
                  <Td label="Enabled">
                    <Switch
                      checked={k.enabled}
                      onCheckedChange={(v) => setEnabled(k, v)}
                      disabled={lockedOff(k)}
                      aria-label={`${k.name} enabled`}
                    />
                    {lockedOff(k) ? <div className="text-xs text-muted-foreground">disabled by an admin</div> : null}
                  </Td>
                  <Td actions>
                    <div className="flex justify-end gap-1">
                      <Button variant="ghost" size="icon" aria-label={`Charts of ${k.name}`} onClick={() => setTrends(k)}>
                        <LineChart />
                      </Button>
                      {admin ? (
                        <Button variant="ghost" size="icon" aria-label={`Providers of ${k.name}`} onClick={() => setRouting(k)}>
                          <Network />
                        </Button>
                      ) : null}
                      <Button variant="ghost" size="icon" aria-label={`Edit ${k.name}`} onClick={() => setEditing(k)}>
                        <Pencil />
                      </Button>
                      <Button variant="ghost" size="icon" aria-label={`Revoke ${k.name}`} onClick={() => setRevoking(k)}>
                        <Trash2 className="text-destructive" />
                      </Button>
                    </div>
                  </Td>
                </Tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      {editing ? (
        <FormDialog
          open
          onOpenChange={(o) => !o && setEditing(null)}
          title={editing === "new" ? "Create client key" : `Edit ${editing.name}`}
          submitLabel={editing === "new" ? "Create key" : "Save"}
          onSubmit={save}
        >
          <KeyForm
            keyRow={editing === "new" ? null : editing}
            providers={providers.data ?? []}
            upstreamKeys={upstream.data}
            admin={admin}
          />
        </FormDialog>
      ) : null}
      <CreatedKeyDialog created={created} providers={providers.data} onClose={() => setCreated(null)} />
      <ConfirmDialog
        open={Boolean(revoking)}
        onOpenChange={(o) => !o && setRevoking(null)}
        title={`Revoke ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke"
        onConfirm={async () => {
          if (!revoking) return;
          await call("client_keys_delete", { path: { id: revoking.id } });
          toast(`${revoking.name} revoked.`);
          keys.reload();
        }}
      >
        Applications using this key get 401 from the next request on. This cannot be undone; its traces stay in the logs.
      </ConfirmDialog>
      <ClientTrendsDialog keyRow={trends} onClose={() => setTrends(null)} />
      <KeyProvidersDialog
        keyRow={routing}
        providers={providers.data ?? []}
        upstreamKeys={upstream.data}
        onClose={(saved) => {
          setRouting(null);
          if (saved) keys.reload();
        }}
      />
      <OAuthClients clientKeys={keys.data ?? []} />
    </>
  );
}
