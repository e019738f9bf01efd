// Rolling a new plugin version out, per provider: put a version in shadow
// (it reads a sample of live traffic after the answers went out; its
// verdicts are compared with the serving version's), let it serve a canary
// percentage of client keys, promote it or roll it back. The shadow report
// shows the totals and every disagreement with both verdicts.
import { useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { formatCost, formatDateTime, formatNanos, formatNumber } from "../lib/format.ts";
import { useApi } from "../lib/use-api.ts";
import { call, read, type Schema } from "../lib/client.ts";
import type { ApiState } from "../lib/use-api.ts";

/** The API's canary range, in percent. */
const MIN_PERCENT = 1;
const MAX_PERCENT = 100;

/** Reads a canary percentage; throws the words to show. */
export function canaryPercent(raw: string | number | null | undefined): number {
  const n = Number(String(raw ?? "").trim());
  if (!Number.isInteger(n) || n < MIN_PERCENT || n > MAX_PERCENT) throw new Error(`Canary must be a whole percentage from ${MIN_PERCENT} to ${MAX_PERCENT}.`);
  return n;
}

/** Reads a shadow sample given in percent (0 < p ≤ 100) as a share. */
export function shadowSample(raw: string | number | null | undefined): number {
  const p = Number(String(raw ?? "").trim());
  if (!Number.isFinite(p) || p <= 0 || p > 100) throw new Error("Shadow sample must be above 0 and at most 100 percent.");
  return p / 100;
}

/** One verdict in a line: model, tokens, cost, error class or failure. */
export function verdictLine(v: Schema<"Verdict"> | null | undefined): string {
  if (!v) return "—";
  if (v.failure) return `failed: ${v.failure}`;
  const parts = [v.model ?? "no model"];
  if (v.usage) {
    const u = v.usage;
    parts.push(`in ${formatNumber(u.input_tokens)} (cached ${formatNumber(u.cached_input_tokens)}), out ${formatNumber(u.output_tokens)} (reasoning ${formatNumber(u.reasoning_tokens)}), cache write ${formatNumber(u.cache_write_tokens)}`);
  } else {
    parts.push("no usage");
  }
  parts.push(formatNanos(v.cost_nanos));
  if (v.error_class) parts.push(v.error_class);
  return parts.join(" · ");
}

function Report({ shadow }: { shadow: Schema<"ShadowReport"> | null | undefined }) {
  if (!shadow?.plugin_id) return <p className="text-sm text-muted-foreground">Nothing compared yet.</p>;
  return (
    <div className="grid gap-3">
      <div className="flex flex-wrap gap-4 text-sm tabular-nums" data-testid="shadow-totals">
        <span>
          <span className="text-muted-foreground">Compared </span>
          {formatNumber(shadow.compared)}
        </span>
        <span>
          <span className="text-muted-foreground">Agreeing </span>
          {formatNumber(shadow.agreeing)}
        </span>
        <span>
          <span className="text-muted-foreground">Cost difference </span>
          {formatCost(shadow.cost_difference_usd)}
        </span>
      </div>
      {shadow.disagreements.length ? (
        <Table minWidth={720}>
          <thead>
            <tr>
              <Th>Request</Th>
              <Th>Serving</Th>
              <Th>Candidate</Th>
            </tr>
          </thead>
          <tbody data-testid="shadow-disagreements">
            {shadow.disagreements.map((d) => (
              <Tr key={d.request_id}>
                <Td primary>
                  <code className="text-xs">{d.request_id}</code>
                  <div className="text-xs text-muted-foreground">{formatDateTime(d.created_at)}</div>
                </Td>
                <Td label={`Serving ${d.serving_version}`} className="whitespace-normal text-xs">
                  {verdictLine(d.serving)}
                </Td>
                <Td label={`Candidate ${d.candidate_version}`} className="whitespace-normal text-xs text-destructive">
                  {verdictLine(d.candidate)}
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <p className="text-sm text-muted-foreground">No disagreements.</p>
      )}
    </div>
  );
}

interface RolloutProps {
  providers: ApiState<Schema<"ProviderView">[]>;
  plugins: ApiState<Schema<"PluginView">[]>;
  onChanged: () => void;
}

export function PluginRollout({ providers, plugins, onChanged }: RolloutProps) {
  const toast = useToast();
  const [picked, setPicked] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const list = providers.data ?? [];
  const provider = list.find((p) => p.id === picked) ?? list[0];
  const rollout = useApi(provider ? read("providers_get_rollout", { path: { id: provider.id } }) : null);
  const view = rollout.data;
  const versions = (plugins.data ?? []).filter((p) => provider && p.name === provider.plugin && p.enabled && p.version !== view?.serving_version);
  const [version, setVersion] = useState("");
  const [sample, setSample] = useState("100");
  const [percent, setPercent] = useState("10");
  const candidateId = Number(version) || view?.candidate?.plugin_id || versions[0]?.id;

  const act = async (send: (id: number) => Promise<unknown>, done: string) => {
    if (!provider) return;
    setBusy(true);
    try {
      await send(provider.id);
      toast(done);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    setBusy(false);
    rollout.reload();
    onChanged();
  };

  if (!list.length) return null;
  return (
    <Card data-testid="plugin-rollout">
      <CardHeader
        title="Rollout"
        description="Try a new version on live traffic before it serves: shadow compares its readings with the serving version's, canary lets it serve a share of client keys (each key always the same way)."
        action={
          <Button variant="outline" size="sm" onClick={rollout.reload}>
            Refresh
          </Button>
        }
      />
      <CardBody className="grid gap-4">
        <div className="grid gap-3 sm:grid-cols-[repeat(4,minmax(0,1fr))]">
          <Field label="Provider">
            {(id) => (
              <Select id={id} value={provider?.id ?? ""} onChange={(e) => setPicked(Number(e.target.value))}>
                {list.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Candidate version">
            {(id) => (
              <Select id={id} value={candidateId ?? ""} onChange={(e) => setVersion(e.target.value)}>
                {versions.length ? null : <option value="">no other enabled version</option>}
                {versions.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.version}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Shadow sample (%)">{(id) => <Input id={id} type="number" min={1} max={100} value={sample} onChange={(e) => setSample(e.target.value)} />}</Field>
          <Field label="Canary (%)">{(id) => <Input id={id} type="number" min={MIN_PERCENT} max={MAX_PERCENT} value={percent} onChange={(e) => setPercent(e.target.value)} />}</Field>
        </div>
        <ErrorNote error={rollout.error} onRetry={rollout.reload} />
        {rollout.loading && !view ? <Loading /> : null}
        {view ? (
          <div className="flex flex-wrap items-center gap-2 text-sm" data-testid="rollout-state">
            <span className="text-muted-foreground">Serving</span>
            <Badge tone="success">{view.serving_version ?? "none"}</Badge>
            {view.candidate ? (
              <>
                <span className="text-muted-foreground">Candidate</span>
                <Badge tone={view.candidate.active ? "primary" : "warning"} data-testid="rollout-stage">
                  {view.candidate.version} · {view.candidate.stage === "canary" ? `canary ${view.candidate.canary_percent}%` : `shadow ${Math.round(view.candidate.shadow_sample * 100)}%`}
                </Badge>
              </>
            ) : (
              <Badge tone="outline" data-testid="rollout-stage">
                no candidate
              </Badge>
            )}
          </div>
        ) : null}
        <div className="flex flex-wrap gap-2">
          <Button variant="outline" disabled={busy || !candidateId} onClick={() => act((id) => call("providers_shadow", { path: { id }, body: { plugin_id: candidateId, sample: shadowSample(sample) } }), "In shadow.")}>
            Shadow
          </Button>
          <Button variant="outline" disabled={busy || !candidateId} onClick={() => act((id) => call("providers_canary", { path: { id }, body: { plugin_id: candidateId, percent: canaryPercent(percent) } }), "Canary set.")}>
            Canary
          </Button>
          <Button disabled={busy || !view?.candidate} onClick={() => act((id) => call("providers_promote", { path: { id }, body: {} }), "Promoted to every request.")}>
            Promote
          </Button>
          <Button variant="destructive" disabled={busy || !view?.candidate} onClick={() => act((id) => call("providers_rollback", { path: { id } }), "Rolled back.")}>
            Roll back
          </Button>
        </div>
        {view ? <Report shadow={view.shadow} /> : !rollout.loading ? <Empty title="No rollout" /> : null}
      </CardBody>
    </Card>
  );
}
