// Providers (where traffic goes, which plugin speaks to it and which
// version of it), and the stored plugin versions below them.
import { KeyRound, Pencil, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { PageIntro, type PageProps } from "../components/layout.tsx";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { ConfirmDialog, FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Switch } from "../components/ui/switch.tsx";
import { STICKY_END, Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { useApi } from "../lib/use-api.ts";
import { formatDuration } from "../lib/format.ts";
import { cn } from "../lib/cn.ts";
import { PluginRollout } from "./plugin-rollout.tsx";
import { Plugins } from "./plugins.tsx";
import { OAuthBadge, OAuthSettingsDialog, ResetOAuthDialog } from "./provider-oauth.tsx";
import { call, read } from "../lib/client.ts";
import type { Schema, BodyOf } from "../lib/client.ts";

type Provider = Schema<"ProviderView">;
type Plugin = Schema<"PluginView">;

/** Versions of a plugin the operator can pin a provider to, newest first. */
export function versionsOf(plugins: Pick<Plugin, "id" | "name" | "version" | "enabled">[] | null | undefined, name: string): { version: string; enabled: boolean }[] {
  return (plugins ?? [])
    .filter((p) => p.name === name)
    .sort((a, b) => b.id - a.id)
    .map((p) => ({ version: p.version, enabled: p.enabled }));
}

interface ProviderFormProps {
  provider: Provider | null;
  pluginNames: string[];
  /** The stored versions; null for a user account, which may not list them. */
  plugins: Plugin[] | null;
}

function ProviderForm({ provider, pluginNames, plugins }: ProviderFormProps) {
  const [plugin, setPlugin] = useState(provider?.plugin ?? pluginNames[0]);
  const versions = versionsOf(plugins, plugin);
  const binding = provider && plugin === provider.plugin ? provider.plugin_binding : "latest";
  return (
    <>
      <Field label="Name" hint="Unique; shown in logs.">
        {(id) => <Input id={id} name="name" defaultValue={provider?.name} required maxLength={64} autoComplete="off" />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field label="Plugin" hint="The component that speaks this provider's API.">
          {(id) => (
            <Select id={id} name="plugin" value={plugin} onChange={(e) => setPlugin(e.target.value)}>
              {pluginNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </Select>
          )}
        </Field>
        {plugins ? (
          <Field label="Plugin version" hint="Pin a version to roll back; latest follows the newest enabled one.">
            {(id) => (
              <Select id={id} name="plugin_version" key={plugin} defaultValue={binding}>
                <option value="latest">latest</option>
                {versions.map((v) => (
                  <option key={v.version} value={v.version} disabled={!v.enabled && v.version !== binding}>
                    {v.version}
                    {v.enabled ? "" : " (disabled)"}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        ) : null}
      </div>
      <Field label="Base URL" hint={provider ? undefined : "Empty uses the plugin's default."}>
        {(id) => <Input id={id} name="base_url" type="url" defaultValue={provider?.base_url} placeholder="https://api.example.com" />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field label="Connect timeout (ms)">
          {(id) => <Input id={id} name="connect_timeout_ms" type="number" min={1} defaultValue={provider?.connect_timeout_ms} placeholder="default" />}
        </Field>
        <Field label="Read timeout (ms)">
          {(id) => <Input id={id} name="read_timeout_ms" type="number" min={1} defaultValue={provider?.read_timeout_ms} placeholder="default" />}
        </Field>
      </div>
    </>
  );
}

export function providerInput(form: FormData, editing: Schema<"ProviderView"> | null): Schema<"ProviderInput"> {
  const body: Schema<"ProviderInput"> = {};
  const name = String(form.get("name") ?? "").trim();
  if (!name) throw new Error("Give the provider a name.");
  if (!editing || name !== editing.name) body.name = name;
  if (!editing) body.plugin = String(form.get("plugin") ?? "");
  else if (form.get("plugin") !== editing.plugin) body.plugin = String(form.get("plugin"));
  const version = form.get("plugin_version");
  if (version !== null) {
    const v = String(version);
    if (editing ? v !== editing.plugin_binding || body.plugin : v !== "latest") body.plugin_version = v;
  }
  const url = String(form.get("base_url") ?? "").trim();
  if (url) body.base_url = url;
  for (const key of ["connect_timeout_ms", "read_timeout_ms"] as const) {
    const raw = String(form.get(key) ?? "").trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error("Timeouts are whole milliseconds, at least 1.");
    body[key] = n;
  }
  return body;
}

export function ProvidersPage({ user }: Pick<PageProps, "user">) {
  const admin = user.role === "admin";
  const providers = useApi(read("providers_list"));
  const plugins = useApi(admin ? read("plugins_list") : null);
  const toast = useToast();
  const [editing, setEditing] = useState<Provider | "new" | null>(null);
  const [deleting, setDeleting] = useState<Provider | null>(null);
  const [oauthOf, setOauthOf] = useState<Provider | null>(null);
  const [resetting, setResetting] = useState<Provider | null>(null);
  const oauthSaved = (words: string) => {
    toast(words);
    setOauthOf(null);
    providers.reload();
  };
  const pluginNames = [...new Set([...(plugins.data ?? []).map((p) => p.name), ...(providers.data ?? []).map((p) => p.plugin)])];

  const save = async (form: FormData) => {
    const current = editing === "new" ? null : editing;
    const body = providerInput(form, current);
    await (current ? call("providers_update", { path: { id: current.id }, body }) : call("providers_create", { body: body as BodyOf<"providers_create"> }));
    toast(`Provider ${body.name ?? current?.name} ${current ? "saved" : "created"}.`);
    setEditing(null);
    providers.reload();
    plugins.reload();
  };

  const setEnabled = async (p: Provider, enabled: boolean) => {
    try {
      await call("providers_update", { path: { id: p.id }, body: { enabled } });
      toast(`${p.name} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    providers.reload();
  };

  return (
    <>
      <PageIntro
        actions={
          admin ? (
            <Button onClick={() => setEditing("new")}>
              <Plus /> Add provider
            </Button>
          ) : null
        }
      >
        Each provider has a base URL and the plugin that speaks its API. Point one at a compatible endpoint by changing its base URL.
      </PageIntro>
      <div className="grid gap-4">
        <Card>
          <ErrorNote error={providers.error} onRetry={providers.reload} className="m-4" />
          {providers.loading && !providers.data ? (
            <Loading />
          ) : !providers.data?.length ? (
            <Empty title="No providers" />
          ) : (
            <Table minWidth={800}>
              <thead>
                <tr>
                  <Th>Name</Th>
                  <Th>Plugin</Th>
                  <Th>Base URL</Th>
                  <Th className="text-right">Timeouts</Th>
                  <Th>Enabled</Th>
                  {admin ? <Th className={cn("text-right", STICKY_END)}>Actions</Th> : null}
                </tr>
              </thead>
              <tbody>
                {providers.data.map((p) => (
                  <Tr key={p.id} data-testid={`provider-${p.name}`}>
                    <Td primary className="font-medium">
                      {p.name}
                    </Td>
                    <Td label="Plugin">
                      <div className="flex items-center gap-1.5 max-sm:justify-end">
                        {p.plugin}
                        {p.plugin_loaded ? (
                          <Badge tone="success" data-testid="provider-serving" title="The version serving now">
                            {p.plugin_version ? `v${p.plugin_version}` : "loaded"}
                          </Badge>
                        ) : (
                          <Badge tone="danger">not loaded</Badge>
                        )}
                      </div>
                      <div className="text-xs text-muted-foreground" data-testid="provider-binding">
                        {!p.plugin_binding || p.plugin_binding === "latest" ? "follows latest" : `pinned to ${p.plugin_binding}`}
                      </div>
                      {p.oauth ? (
                        <div className="mt-1">
                          <OAuthBadge oauth={p.oauth} />
                        </div>
                      ) : null}
                    </Td>
                    <Td label="Base URL" className="max-w-[280px] truncate">
                      <code className="text-xs" title={p.base_url}>
                        {p.base_url}
                      </code>
                    </Td>
                    <Td label="Timeouts" className="whitespace-nowrap text-right text-xs tabular-nums text-muted-foreground">
                      <span title="Connect timeout / read timeout">
                        connect {formatDuration(p.connect_timeout_ms)} · read {formatDuration(p.read_timeout_ms)}
                      </span>
                    </Td>
                    <Td label="Enabled">
                      <Switch checked={p.enabled} disabled={!admin} onCheckedChange={(v) => setEnabled(p, v)} aria-label={`${p.name} enabled`} />
                    </Td>
                    {admin ? (
                      <Td actions>
                        <div className="flex justify-end gap-1">
                          <Button variant="ghost" size="icon" aria-label={`OAuth settings of ${p.name}`} title="OAuth settings" onClick={() => setOauthOf(p)}>
                            <KeyRound />
                          </Button>
                          <Button variant="ghost" size="icon" aria-label={`Edit ${p.name}`} onClick={() => setEditing(p)}>
                            <Pencil />
                          </Button>
                          <Button variant="ghost" size="icon" aria-label={`Delete ${p.name}`} onClick={() => setDeleting(p)}>
                            <Trash2 className="text-destructive" />
                          </Button>
                        </div>
                      </Td>
                    ) : null}
                  </Tr>
                ))}
              </tbody>
            </Table>
          )}
        </Card>
        {admin ? (
          <Plugins
            plugins={plugins}
            onChanged={() => {
              plugins.reload();
              providers.reload();
            }}
            onUploaded={() => {
              // A provider following latest switches to the new version.
              plugins.reload();
              providers.reload();
            }}
          />
        ) : null}
        {admin ? <PluginRollout providers={providers} plugins={plugins} onChanged={plugins.reload} /> : null}
      </div>
      {editing ? (
        <FormDialog
          open
          onOpenChange={(o) => !o && setEditing(null)}
          title={editing === "new" ? "Add provider" : `Edit ${editing.name}`}
          submitLabel={editing === "new" ? "Add provider" : "Save"}
          onSubmit={save}
        >
          <ProviderForm provider={editing === "new" ? null : editing} pluginNames={pluginNames} plugins={plugins.data} />
        </FormDialog>
      ) : null}
      <OAuthSettingsDialog
        provider={oauthOf}
        onClose={() => setOauthOf(null)}
        onSaved={oauthSaved}
        onResetRequest={() => {
          setResetting(oauthOf);
          setOauthOf(null);
        }}
      />
      <ResetOAuthDialog provider={resetting} onClose={() => setResetting(null)} onReset={oauthSaved} />
      <ConfirmDialog
        open={Boolean(deleting)}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete provider ${deleting?.name ?? ""}?`}
        onConfirm={async () => {
          if (!deleting) return;
          await call("providers_delete", { path: { id: deleting.id } });
          toast(`${deleting.name} deleted.`);
          providers.reload();
        }}
      >
        Only a provider without upstream or client keys can be deleted. Its traces stay in the logs.
      </ConfirmDialog>
    </>
  );
}
