// The stored plugin versions: upload, state (serving / enabled / disabled,
// built-in), per-version call figures, enable/disable, call limits, and
// deleting a version nothing uses.
import { Pencil, Trash2 } from "lucide-react";
import { useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { ConfirmDialog, FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Switch } from "../components/ui/switch.tsx";
import { STICKY_END, Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { cn } from "../lib/cn.ts";
import { formatDateTime, formatDuration, formatMicros, formatNumber, pluginFailures, pluginStatus } from "../lib/format.ts";
import { PluginConformance } from "./plugin-conformance.tsx";
import { PluginUpload } from "./plugin-upload.tsx";
import { call } from "../lib/client.ts";
import type { Schema } from "../lib/client.ts";
import type { ApiState } from "../lib/use-api.ts";

type Plugin = Schema<"PluginView">;

/** The API's ceilings for per-version limits. */
const MAX_CALL_TIMEOUT_MS = 60_000;
const MAX_MEMORY_MIB = 4096;

/** Reads the limits dialog: a number, or null when emptied (the gateway's default). */
export function pluginLimitsInput(form: FormData): Schema<"PluginInput"> {
  const body: Schema<"PluginInput"> = {};
  for (const [key, label, max] of [
    ["call_timeout_ms", "Call timeout", MAX_CALL_TIMEOUT_MS],
    ["memory_mib", "Memory", MAX_MEMORY_MIB],
  ] as const) {
    const raw = String(form.get(key) ?? "").trim();
    if (!raw) {
      body[key] = null;
      continue;
    }
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${label} must be a whole number from 1 to ${max.toLocaleString("en-US")}.`);
    body[key] = n;
  }
  return body;
}

function Figures({ metrics }: { metrics: Plugin["metrics"] }) {
  if (!metrics) return <span className="text-muted-foreground">not loaded</span>;
  const failed = pluginFailures(metrics);
  const parts = [
    metrics.errors ? `${formatNumber(metrics.errors)} errors` : null,
    metrics.traps ? `${formatNumber(metrics.traps)} traps` : null,
    metrics.timeouts ? `${formatNumber(metrics.timeouts)} timeouts` : null,
    metrics.out_of_memory ? `${formatNumber(metrics.out_of_memory)} out of memory` : null,
  ].filter(Boolean);
  return (
    <div className="text-right tabular-nums" data-testid="plugin-metrics">
      <div>
        {formatNumber(metrics.calls)} calls
        {failed ? <span className="text-destructive"> · {formatNumber(failed)} failed</span> : null}
      </div>
      <div className="text-xs text-muted-foreground" title={`p50 ${formatMicros(metrics.p50_us)}, p99 ${formatMicros(metrics.p99_us)}`}>
        {parts.length ? `${parts.join(", ")} · ` : ""}p95 {metrics.calls ? formatMicros(metrics.p95_us) : "—"}
      </div>
    </div>
  );
}

function Users({ plugin }: { plugin: Plugin }) {
  const names = [...new Set([...(plugin.serving ?? []), ...(plugin.bound ?? [])])];
  if (!names.length) return <span className="text-muted-foreground">none</span>;
  return (
    <div className="flex flex-wrap gap-1 max-sm:justify-end">
      {names.map((n) => (
        <Badge key={n} tone="outline" title={plugin.bound?.includes(n) ? `${n} is pinned to this version` : `${n} follows latest`}>
          {n}
          {plugin.bound?.includes(n) ? " (pinned)" : ""}
        </Badge>
      ))}
    </div>
  );
}

interface PluginsProps {
  plugins: ApiState<Plugin[]>;
  onChanged: () => void;
  onUploaded?: (plugin: Plugin) => void;
}

export function Plugins({ plugins, onChanged, onUploaded }: PluginsProps) {
  const toast = useToast();
  const [editing, setEditing] = useState<Plugin | null>(null);
  const [deleting, setDeleting] = useState<Plugin | null>(null);
  const label = (p: Plugin) => `${p.name} ${p.version}`;

  const setEnabled = async (p: Plugin, enabled: boolean) => {
    try {
      await call("plugins_update", { path: { id: p.id }, body: { enabled } });
      toast(`${label(p)} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    onChanged();
  };

  const saveLimits = async (form: FormData) => {
    if (!editing) return;
    const body = pluginLimitsInput(form);
    await call("plugins_update", { path: { id: editing.id }, body });
    toast(`Limits of ${label(editing)} saved.`);
    setEditing(null);
    onChanged();
  };

  const rows = [...(plugins.data ?? [])].sort((a, b) => a.name.localeCompare(b.name) || b.id - a.id);

  return (
    <Card>
      <CardHeader title="Plugins" description="Stored WebAssembly components, one row per version. Built-in ones ship with the gateway." />
      <CardBody className="grid gap-4">
        <PluginUpload onUploaded={onUploaded} />
      </CardBody>
      <ErrorNote error={plugins.error} onRetry={plugins.reload} className="m-4" />
      {plugins.loading && !plugins.data ? (
        <Loading />
      ) : !rows.length ? (
        <Empty title="No plugins stored" />
      ) : (
        <Table minWidth={980}>
          <thead>
            <tr>
              <Th>Plugin</Th>
              <Th>State</Th>
              <Th>Used by</Th>
              <Th className="text-right">Calls</Th>
              <Th>Limits</Th>
              <Th>Enabled</Th>
              <Th className={cn("text-right", STICKY_END)}>Actions</Th>
            </tr>
          </thead>
          <tbody data-testid="plugin-rows">
            {rows.map((p) => {
              const status = pluginStatus(p);
              const inUse = Boolean(p.serving?.length || p.bound?.length);
              return (
                <Tr key={p.id} data-testid={`plugin-${p.name}-${p.version}`}>
                  <Td primary>
                    <div className="font-medium">{p.name}</div>
                    <div className="text-xs tabular-nums text-muted-foreground">
                      {p.version}
                      <code className="ml-1.5 max-sm:hidden" title={`SHA-256 ${p.sha256}\nadded ${formatDateTime(p.created_at)}`}>
                        {p.sha256.slice(0, 8)}
                      </code>
                    </div>
                  </Td>
                  <Td label="State" className="max-w-[220px] whitespace-normal">
                    <div className="flex flex-wrap gap-1 max-sm:justify-end">
                      <Badge tone={status.tone} title={status.title} data-testid="plugin-status">
                        {status.label}
                      </Badge>
                      {p.builtin ? <Badge tone="primary">built-in</Badge> : null}
                    </div>
                    {!p.enabled && p.disabled_reason ? <div className="mt-1 line-clamp-2 text-xs text-muted-foreground">{p.disabled_reason}</div> : null}
                    <PluginConformance plugin={p} />
                  </Td>
                  <Td label="Used by" className="max-w-[200px] whitespace-normal">
                    <Users plugin={p} />
                  </Td>
                  <Td label="Calls">
                    <Figures metrics={p.metrics} />
                  </Td>
                  <Td label="Limits" className="text-xs tabular-nums text-muted-foreground">
                    <div>{p.call_timeout_ms ? `${formatDuration(p.call_timeout_ms)} per call` : "default time"}</div>
                    <div>{p.memory_mib ? `${formatNumber(p.memory_mib)} MiB` : "default memory"}</div>
                  </Td>
                  <Td label="Enabled">
                    <Switch checked={p.enabled} onCheckedChange={(v) => setEnabled(p, v)} aria-label={`${label(p)} enabled`} />
                  </Td>
                  <Td actions>
                    <div className="flex justify-end gap-1">
                      <Button variant="ghost" size="icon" aria-label={`Limits of ${label(p)}`} onClick={() => setEditing(p)}>
                        <Pencil />
                      </Button>
                      <Button
                        variant="ghost"
                        size="icon"
                        aria-label={`Delete ${label(p)}`}
                        title={p.builtin ? "Built-in versions cannot be deleted." : inUse ? "In use: unbind its providers first." : undefined}
                        disabled={p.builtin}
                        onClick={() => setDeleting(p)}
                      >
                        <Trash2 className="text-destructive" />
                      </Button>
                    </div>
                  </Td>
                </Tr>
              );
            })}
          </tbody>
        </Table>
      )}
      {editing ? (
        <FormDialog
          open
          onOpenChange={(o) => !o && setEditing(null)}
          title={`Limits of ${label(editing)}`}
          description="Per-call limits of this version, at most the gateway's own. Empty uses the gateway's default."
          submitLabel="Save"
          onSubmit={saveLimits}
        >
          <div className="grid grid-cols-2 gap-3">
            <Field label="Call timeout (ms)" hint={`1 to ${MAX_CALL_TIMEOUT_MS.toLocaleString("en-US")}`}>
              {(id) => <Input id={id} name="call_timeout_ms" type="number" min={1} max={MAX_CALL_TIMEOUT_MS} defaultValue={editing.call_timeout_ms ?? ""} placeholder="default" />}
            </Field>
            <Field label="Memory (MiB)" hint={`1 to ${MAX_MEMORY_MIB.toLocaleString("en-US")}`}>
              {(id) => <Input id={id} name="memory_mib" type="number" min={1} max={MAX_MEMORY_MIB} defaultValue={editing.memory_mib ?? ""} placeholder="default" />}
            </Field>
          </div>
        </FormDialog>
      ) : null}
      <ConfirmDialog
        open={Boolean(deleting)}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete ${deleting ? label(deleting) : ""}?`}
        onConfirm={async () => {
          if (!deleting) return;
          await call("plugins_delete", { path: { id: deleting.id } });
          toast(`${label(deleting)} deleted.`);
          onChanged();
        }}
      >
        Only a version no provider runs or is pinned to can be deleted. Its stored component is gone for good.
      </ConfirmDialog>
    </Card>
  );
}
