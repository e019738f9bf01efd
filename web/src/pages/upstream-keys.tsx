// Upstream keys: search and a provider filter, live health at a glance
// (score explained, cooldown counting down, last check), a one-click
// probe per key and for all shown, trends, and create / edit (weight,
// limits, expiry) / disable / delete. Secrets are write-only. A key of a provider
// with OAuth endpoints may be an OAuth account instead of an API key; its
// connect flow and state live in oauth-connect.tsx.
import { Activity, LineChart, Pencil, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { PageIntro } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { ConfirmDialog, FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading, Spinner } from "../components/ui/states.tsx";
import { Switch } from "../components/ui/switch.tsx";
import { STICKY_END, Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { formatDuration, healthBadge, healthScore } from "../lib/format.ts";
import { KEY_LIMITS, limitsFromForm } from "../lib/limits.ts";
import { localToIso } from "../lib/query.ts";
import { isoToLocal } from "../lib/time.ts";
import { LimitFields } from "../components/limit-fields.tsx";
import { useApi } from "../lib/use-api.ts";
import { oauthErrorWords } from "../lib/oauth.ts";
import { ConnectDialog, KeyCredential, expiryWords } from "./oauth-connect.tsx";
import { cn } from "../lib/cn.ts";
import { KeyHealth, KeyTerms } from "./key-health.tsx";
import { UpstreamTrendsDialog } from "./key-trends.tsx";
import { KeyFilters, matchesKey } from "./key-filters.tsx";
import { call, read } from "../lib/client.ts";
import type { Schema, BodyOf } from "../lib/client.ts";

type Key = Schema<"UpstreamKeyView">;
type AuthType = "api_key" | "oauth";

/** API key or OAuth account: offered when creating a key for a provider with OAuth endpoints. */
function AuthTypeChoice({ value, onChange }: { value: AuthType; onChange: (value: AuthType) => void }) {
  return (
    <fieldset className="grid gap-1.5">
      <legend className="mb-1.5 text-sm font-medium">Credential</legend>
      <div className="grid grid-cols-2 gap-2">
        {(
          [
            ["api_key", "API key", "A secret from the provider's console."],
            ["oauth", "OAuth account", "Sign in to an account; the gateway refreshes its tokens."],
          ] as const
        ).map(([v, label, hint]) => (
          <label
            key={v}
            className={cn(
              "grid cursor-pointer gap-0.5 rounded-md border p-3 text-sm transition-colors has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring",
              value === v ? "border-primary bg-primary/5" : "hover:bg-muted/60",
            )}
          >
            <span className="flex items-center gap-2 font-medium">
              <input type="radio" name="auth_type" value={v} checked={value === v} onChange={() => onChange(v)} className="size-4 accent-[hsl(var(--primary))]" />
              {label}
            </span>
            <span className="text-xs text-muted-foreground">{hint}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function KeyForm({ keyRow, providers }: { keyRow: Key | null; providers: Schema<"ProviderView">[] }) {
  const editing = Boolean(keyRow);
  const [providerId, setProviderId] = useState(keyRow?.provider_id ?? providers[0]?.id);
  const [authType, setAuthType] = useState<AuthType>(keyRow?.oauth ? "oauth" : "api_key");
  const provider = providers.find((p) => p.id === Number(providerId));
  const offersOAuth = !editing && Boolean(provider?.oauth);
  const oauth = keyRow ? Boolean(keyRow.oauth) : offersOAuth && authType === "oauth";
  return (
    <>
      <Field label="Provider" hint={editing ? "A key cannot move to another provider." : undefined}>
        {(id) => (
          <Select id={id} name="provider_id" value={providerId} onChange={(e) => setProviderId(Number(e.target.value))} disabled={editing}>
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Field label="Name" hint="Shown in logs and pools, e.g. team-a.">
        {(id) => <Input id={id} name="name" defaultValue={keyRow?.name} required maxLength={128} autoComplete="off" />}
      </Field>
      {offersOAuth ? <AuthTypeChoice value={authType} onChange={setAuthType} /> : null}
      {oauth ? (
        <p className="rounded-md border border-dashed px-3 py-2 text-sm text-muted-foreground" data-testid="oauth-key-note">
          {editing ? "This key signs in with an OAuth account: use Connect or Reconnect in the list." : "After adding the key, sign in to the account; the key takes traffic once connected."}
        </p>
      ) : (
        <Field label="Secret" hint={keyRow ? `Now ${keyRow.secret_hint}. Leave empty to keep it.` : "Stored encrypted and never shown again."}>
          {(id) => <Input id={id} name="secret" type="password" autoComplete="new-password" placeholder={editing ? "unchanged" : "sk-…"} />}
        </Field>
      )}
      <Field label="Weight" hint="Share of traffic in weighted pools, 0 to 1000.">
        {(id) => <Input id={id} name="weight" type="number" min={0} max={1000} defaultValue={keyRow?.weight ?? 1} />}
      </Field>
      <Field label="Expires" hint={keyRow?.expires_at ? "Move it to keep the key; it cannot be removed." : "Empty never expires."}>
        {(id) => <Input id={id} name="expires_at" type="datetime-local" defaultValue={isoToLocal(keyRow?.expires_at)} />}
      </Field>
      <LimitFields specs={KEY_LIMITS} limits={keyRow?.limits} />
    </>
  );
}

export function keyInput(form: FormData, editing: Schema<"UpstreamKeyView"> | null): Schema<"UpstreamKeyInput"> {
  const body: Schema<"UpstreamKeyInput"> = { name: String(form.get("name") ?? "").trim() };
  const secret = String(form.get("secret") ?? "").trim();
  const oauth = form.get("auth_type") === "oauth" || Boolean(editing?.oauth);
  if (!body.name) throw new Error("Give the key a name.");
  if (oauth) {
    // An OAuth key has no secret: its tokens come from the sign-in.
    if (!editing) body.auth_type = "oauth";
  } else if (secret) body.secret = secret;
  else if (!editing) throw new Error("Enter the upstream secret.");
  const weight = Number(form.get("weight"));
  if (!Number.isInteger(weight) || weight < 0 || weight > 1000) throw new Error("Weight must be a whole number from 0 to 1000.");
  body.weight = weight;
  const expires = String(form.get("expires_at") ?? "");
  if (expires) {
    const iso = localToIso(expires);
    if (!iso) throw new Error("The expiry is not a valid time.");
    body.expires_at = iso;
  }
  body.limits = limitsFromForm(form, KEY_LIMITS);
  if (!editing) body.provider_id = Number(form.get("provider_id"));
  return body;
}

/** Health checks run at the same time by "Check all". */
const CHECK_ALL_AT_ONCE = 4;

export function UpstreamKeysPage() {
  const keys = useApi(read("upstream_keys_list"));
  const providers = useApi(read("providers_list"));
  const toast = useToast();
  const [editing, setEditing] = useState<Key | "new" | null>(null);
  const [deleting, setDeleting] = useState<Key | null>(null);
  const [trends, setTrends] = useState<Key | null>(null);
  const [checking, setChecking] = useState<number | null>(null);
  const [connecting, setConnecting] = useState<Key | null>(null);
  const [refreshing, setRefreshing] = useState<number | null>(null);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const [query, setQuery] = useState("");
  const [providerFilter, setProviderFilter] = useState("");
  const [checkingAll, setCheckingAll] = useState(false);
  const providerName = (id: number) => providers.data?.find((p) => p.id === id)?.name ?? `#${id}`;

  const save = async (form: FormData) => {
    const current = editing === "new" ? null : editing;
    const isNew = !current;
    const body = keyInput(form, current);
    const saved = await (current
      ? call("upstream_keys_update", { path: { id: current.id }, body })
      : call("upstream_keys_create", { body: body as BodyOf<"upstream_keys_create"> }));
    toast(isNew ? `Upstream key ${body.name} added.` : `Upstream key ${body.name} saved.`);
    setEditing(null);
    keys.reload();
    // A new OAuth key is useless until connected: go straight to the sign-in.
    if (isNew && body.auth_type === "oauth" && saved?.id) setConnecting(saved);
  };

  const connected = (key: Key) => {
    setConnecting(null);
    toast(`${key.name} is connected${expiryWords(key)}.`);
    keys.reload();
  };

  const refresh = async (k: Key) => {
    setRefreshing(k.id);
    try {
      const key = await call("upstream_oauth_refresh", { path: { id: k.id } });
      toast(`${k.name}: token refreshed${expiryWords(key)}.`);
    } catch (e) {
      toast(`${k.name}: ${oauthErrorWords(e)}`, { tone: "error" });
    } finally {
      setRefreshing(null);
      keys.reload();
    }
  };

  const setEnabled = async (k: Key, enabled: boolean) => {
    try {
      await call("upstream_keys_update", { path: { id: k.id }, body: { enabled } });
      toast(`${k.name} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    keys.reload();
  };

  const shown = (keys.data ?? []).filter((k) => matchesKey(k, query, providerFilter, providerName));

  const check = async (k: Key) => {
    setChecking(k.id);
    try {
      const answer = await call("upstream_keys_health_check", { path: { id: k.id } });
      const r = answer.result;
      const words = healthBadge(r.status).label;
      const score = answer.health ? `, score ${healthScore(answer.health.score).label}` : "";
      toast(`${k.name}: ${words}${r.http_status ? ` (HTTP ${r.http_status})` : ""} in ${formatDuration(r.latency_ms)}${score}${r.detail ? `. ${r.detail}` : ""}`, {
        tone: r.status === "healthy" ? "success" : "error",
      });
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    } finally {
      setChecking(null);
      keys.reload();
    }
  };

  // The keys shown, CHECK_ALL_AT_ONCE at a time: a large list must not
  // open a hundred upstream connections in the same instant.
  const checkAll = async () => {
    setCheckingAll(true);
    const queue = [...shown];
    let healthy = 0;
    let failed = 0;
    const worker = async () => {
      for (let k = queue.shift(); k; k = queue.shift()) {
        try {
          const answer = await call("upstream_keys_health_check", { path: { id: k.id } });
          if (answer.result.status === "healthy") healthy += 1;
          else failed += 1;
        } catch {
          failed += 1;
        }
      }
    };
    await Promise.all(Array.from({ length: CHECK_ALL_AT_ONCE }, worker));
    setCheckingAll(false);
    keys.reload();
    toast(`Checked ${healthy + failed} ${healthy + failed === 1 ? "key" : "keys"}: ${healthy} healthy, ${failed} failing.`, {
      tone: failed ? "error" : "success",
    });
  };

  return (
    <>
      <PageIntro
        actions={
          <Button onClick={() => setEditing("new")} disabled={!providers.data?.length}>
            <Plus /> Add upstream key
          </Button>
        }
      >
        Credentials the gateway uses towards providers. Client keys draw from pools of these.
      </PageIntro>
      <Card>
        <ErrorNote error={keys.error || providers.error} onRetry={keys.reload} className="m-4" />
        {keys.loading && !keys.data ? (
          <Loading />
        ) : !keys.data?.length ? (
          <Empty title="No upstream keys yet" action={<Button onClick={() => setEditing("new")}>Add the first key</Button>}>
            Add a provider's API key; client keys can then use it.
          </Empty>
        ) : (
          <>
            <KeyFilters
              query={query}
              onQuery={setQuery}
              providerId={providerFilter}
              onProvider={setProviderFilter}
              providers={providers.data ?? []}
              shown={shown.length}
              total={keys.data.length}
            >
              <Button variant="outline" onClick={checkAll} disabled={checkingAll || !shown.length}>
                {checkingAll ? <Spinner /> : <Activity />} Check all shown
              </Button>
            </KeyFilters>
            {!shown.length ? (
              <Empty title="No upstream key matches">Change the search or the provider filter.</Empty>
            ) : (
              <Table minWidth={980}>
                <thead>
                  <tr>
                    <Th>Name</Th>
                    <Th>Credential</Th>
                    <Th>Health</Th>
                    <Th>Limits</Th>
                    <Th>Enabled</Th>
                    <Th className={cn("text-right", STICKY_END)}>Actions</Th>
                  </tr>
                </thead>
                <tbody>
                  {shown.map((k) => (
                    <Tr key={k.id} data-testid={`upstream-key-${k.name}`}>
                      <Td primary className="max-w-[200px] whitespace-normal break-words">
                        <div className="font-medium">{k.name}</div>
                        <div className="text-xs text-muted-foreground">
                          {providerName(k.provider_id)} · <span title="Share of traffic in weighted pools">weight {k.weight}</span>
                        </div>
                      </Td>
                      <Td label="Credential" className="min-w-[190px] whitespace-normal">
                        <KeyCredential
                          keyRow={k}
                          busy={refreshing === k.id}
                          onConnect={() => setConnecting(k)}
                          onRefresh={() => refresh(k)}
                          onRevoke={() => setRevoking(k)}
                        />
                      </Td>
                      <Td label="Health" className="min-w-[150px] max-w-[240px] whitespace-normal">
                        <KeyHealth keyRow={k} />
                      </Td>
                      <Td label="Limits" className="max-w-[180px] whitespace-normal text-xs" data-testid="upstream-key-limits">
                        <KeyTerms keyRow={k} />
                      </Td>
                      <Td label="Enabled">
                        <Switch checked={k.enabled} onCheckedChange={(v) => setEnabled(k, v)} aria-label={`${k.name} enabled`} />
                      </Td>
                      <Td actions>
                        <div className="flex justify-end gap-1">
                          <Button variant="outline" size="icon" onClick={() => check(k)} disabled={checking === k.id} aria-label={`Check ${k.name}`} title="Run a health check">
                            {checking === k.id ? <Spinner /> : <Activity />}
                          </Button>
                          <Button variant="ghost" size="icon" aria-label={`Trends of ${k.name}`} onClick={() => setTrends(k)}>
                            <LineChart />
                          </Button>
                          <Button variant="ghost" size="icon" aria-label={`Edit ${k.name}`} onClick={() => setEditing(k)}>
                            <Pencil />
                          </Button>
                          <Button variant="ghost" size="icon" aria-label={`Delete ${k.name}`} onClick={() => setDeleting(k)}>
                            <Trash2 className="text-destructive" />
                          </Button>
                        </div>
                      </Td>
                    </Tr>
                  ))}
                </tbody>
              </Table>
            )}
          </>
        )}
      </Card>
      {editing ? (
        <FormDialog
          open
          onOpenChange={(o) => !o && setEditing(null)}
          title={editing === "new" ? "Add upstream key" : `Edit ${editing.name}`}
          submitLabel={editing === "new" ? "Add key" : "Save"}
          onSubmit={save}
        >
          <KeyForm keyRow={editing === "new" ? null : editing} providers={providers.data ?? []} />
        </FormDialog>
      ) : null}
      <ConfirmDialog
        open={Boolean(deleting)}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete ${deleting?.name ?? ""}?`}
        onConfirm={async () => {
          if (!deleting) return;
          await call("upstream_keys_delete", { path: { id: deleting.id } });
          toast(`${deleting.name} deleted.`);
          keys.reload();
        }}
      >
        The gateway stops using this key at once and its secret is gone for good. Client keys that pool it keep their other keys.
        To pause it instead, switch it off.
      </ConfirmDialog>
      <UpstreamTrendsDialog keyRow={trends} onClose={() => setTrends(null)} />
      <ConnectDialog keyRow={connecting} onClose={() => setConnecting(null)} onConnected={connected} />
      <ConfirmDialog
        open={Boolean(revoking)}
        onOpenChange={(o) => !o && setRevoking(null)}
        title={`Revoke ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke"
        onConfirm={async () => {
          if (!revoking) return;
          await call("upstream_oauth_revoke", { path: { id: revoking.id } });
          toast(`${revoking.name} revoked; it is out of rotation until reconnected.`);
          keys.reload();
        }}
      >
        The gateway erases this key's tokens and stops sending traffic with it at once. Client keys that pool it keep their other keys. Reconnect to
        use the account again.
      </ConfirmDialog>
    </>
  );
}
