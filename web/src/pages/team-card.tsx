// One team on the Teams page: its spend this month against its monthly
// budget, its members and its client keys, and the operator's actions
// (add a member or a key, set the budget). Members may add and remove
// their own keys only; the API enforces it, the card only hides the rest.
import { Trash2, Wallet } from "lucide-react";
import { useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { BUDGET_FIELDS, budgetInput, budgetLine, lineShare } from "../lib/budget.ts";
import { formatCost, formatNanos, formatNumber, formatPercent, formatTokens } from "../lib/format.ts";
import { call, type Schema } from "../lib/client.ts";

type Team = Schema<"TeamView">;
/** The team's line of the budget report, with the report's per-key spend. */
export type TeamRow = Schema<"BudgetedRow"> & { keys: Schema<"KeyRow">[] };

/** Spend of the month against the monthly cost budget, as words and a bar. */
function SpendMeter({ row }: { row: TeamRow | null }) {
  const line = budgetLine(row?.budget, "team_cost_per_month");
  const share = lineShare(line);
  const spend = row?.spend;
  return (
    <div className="grid gap-2" data-testid="team-spend">
      <p className="text-sm">
        {line ? (
          <>
            Spent <strong>{formatNanos(line.used)}</strong> of <strong>{formatNanos(line.budget)}</strong> in {line.period}
          </>
        ) : (
          <>
            Spent <strong>{formatCost(spend?.cost_usd ?? 0)}</strong> this month, no monthly budget
          </>
        )}
      </p>
      {line ? (
        <div
          role="progressbar"
          aria-label="Monthly budget used"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.min(100, Math.round((share ?? 0) * 100))}
          className="h-2 w-full overflow-hidden rounded-full bg-muted"
        >
          <div
            className={(share ?? 0) >= 1 ? "h-full bg-destructive" : (share ?? 0) >= 0.8 ? "h-full bg-amber-500" : "h-full bg-primary"}
            style={{ width: `${Math.min(100, (share ?? 0) * 100)}%` }}
          />
        </div>
      ) : null}
      <p className="text-xs text-muted-foreground">
        {formatNumber(spend?.requests ?? 0)} requests · {formatTokens(spend?.tokens ?? 0)} tokens this month
        {line ? ` · ${formatPercent(share)} of the budget` : ""}
      </p>
    </div>
  );
}

interface BudgetDialogProps {
  team: Team;
  row: TeamRow | null;
  onClose: () => void;
  onSaved: (message: string) => void;
}

function BudgetDialog({ team, row, onClose, onSaved }: BudgetDialogProps) {
  const limits: Schema<"BudgetInput"> = row?.budget?.limits ?? {};
  return (
    <FormDialog
      open
      onOpenChange={(o) => !o && onClose()}
      title={`Budget of ${team.name}`}
      description="Calendar months in the gateway's time zone. An empty field is no limit."
      submitLabel="Save budget"
      onSubmit={async (form) => {
        const body = budgetInput(form);
        await call("teams_put_team_budget", { path: { id: team.id }, body });
        onSaved(`Budget of ${team.name} saved.`);
      }}
    >
      {BUDGET_FIELDS.map(([name, label, kind]) => (
        <Field key={name} label={label}>
          {(id) => (
            <Input
              id={id}
              name={name}
              inputMode={kind === "usd" ? "decimal" : "numeric"}
              defaultValue={limits[name] ?? (kind === "percent" ? 80 : "")}
            />
          )}
        </Field>
      ))}
    </FormDialog>
  );
}

/** A select (`label`) of `options` ([value, label]) and a button (`action`). */
interface AddRowProps {
  label: string;
  action: string;
  options: [number, string][];
  onAdd: (id: number) => Promise<unknown>;
}

function AddRow({ label, action, options, onAdd }: AddRowProps) {
  const [value, setValue] = useState("");
  if (!options.length) return null;
  return (
    <div className="flex flex-wrap items-end gap-2">
      <Field label={label} className="min-w-48 flex-1">
        {(id) => (
          <Select id={id} value={value} onChange={(e) => setValue(e.target.value)}>
            <option value="">Choose…</option>
            {options.map(([v, l]) => (
              <option key={v} value={v}>
                {l}
              </option>
            ))}
          </Select>
        )}
      </Field>
      <Button variant="outline" disabled={!value} onClick={() => onAdd(Number(value)).then(() => setValue(""))}>
        {action}
      </Button>
    </div>
  );
}

interface TeamCardProps {
  team: Team;
  row: TeamRow | null;
  users: Pick<Schema<"UserView">, "id" | "username">[];
  keys: Pick<Schema<"ClientKeyView">, "id" | "name" | "team_id">[];
  admin: boolean;
  /** The signed-in account's id: a member may take out only its own keys. */
  me: number;
  onChanged: () => void;
}

export function TeamCard({ team, row, users, keys, admin, me, onChanged }: TeamCardProps) {
  const toast = useToast();
  const [budgeting, setBudgeting] = useState(false);
  const act = async (send: () => Promise<unknown>, message: string) => {
    try {
      await send();
      toast(message);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    onChanged();
  };
  const memberIds = new Set(team.members.map((m) => m.id));
  const freeKeys = keys.filter((k) => k.team_id === null || k.team_id === undefined);
  return (
    <Card data-testid={`team-${team.name}`}>
      <CardHeader
        title={team.name}
        description={`${team.members.length} members · ${team.keys.length} keys`}
        action={
          admin ? (
            <Button variant="outline" size="sm" onClick={() => setBudgeting(true)}>
              <Wallet /> Set budget
            </Button>
          ) : null
        }
      />
      <CardBody className="grid gap-5">
        <SpendMeter row={row} />
        <section className="grid gap-2" aria-label={`Members of ${team.name}`}>
          <h4 className="text-sm font-medium">Members</h4>
          <ul className="flex flex-wrap gap-2">
            {team.members.map((m) => (
              <li key={m.id}>
                <Badge tone="neutral" className="gap-1">
                  {m.username}
                  {admin ? (
                    <button
                      type="button"
                      aria-label={`Remove ${m.username} from ${team.name}`}
                      onClick={() => act(() => call("teams_remove_member", { path: { id: team.id, user_id: m.id } }), `${m.username} removed.`)}
                    >
                      <Trash2 className="size-3" />
                    </button>
                  ) : null}
                </Badge>
              </li>
            ))}
            {team.members.length ? null : <li className="text-sm text-muted-foreground">No members yet.</li>}
          </ul>
          {admin ? (
            <AddRow
              label="Member to add"
              action="Add member"
              options={users.filter((u) => !memberIds.has(u.id)).map((u): [number, string] => [u.id, u.username])}
              onAdd={(id) => act(() => call("teams_add_member", { path: { id: team.id }, body: { user_id: id } }), "Member added.")}
            />
          ) : null}
        </section>
        <section className="grid gap-2" aria-label={`Keys of ${team.name}`}>
          <h4 className="text-sm font-medium">Client keys</h4>
          <ul className="grid gap-1">
            {team.keys.map((k) => {
              const spend = row?.keys?.find((r) => r.id === k.id)?.spend;
              const mine = admin || k.owner_user_id === me;
              return (
                <li key={k.id} className="flex flex-wrap items-center justify-between gap-2 text-sm">
                  <span>
                    <span className="font-medium">{k.name}</span>{" "}
                    <code className="text-xs text-muted-foreground">{k.key_prefix}…</code>
                  </span>
                  <span className="flex items-center gap-2 text-muted-foreground">
                    {spend ? formatCost(spend.cost_usd) : null}
                    {mine ? (
                      <Button
                        variant="ghost"
                        size="icon"
                        aria-label={`Take ${k.name} out of ${team.name}`}
                        onClick={() => act(() => call("teams_remove_key", { path: { id: team.id, key_id: k.id } }), `${k.name} taken out.`)}
                      >
                        <Trash2 className="text-destructive" />
                      </Button>
                    ) : null}
                  </span>
                </li>
              );
            })}
            {team.keys.length ? null : <li className="text-sm text-muted-foreground">No keys yet.</li>}
          </ul>
          <AddRow
            label="Key to add"
            action="Add key"
            options={freeKeys.map((k): [number, string] => [k.id, k.name])}
            onAdd={(id) => act(() => call("teams_add_key", { path: { id: team.id }, body: { client_key_id: id } }), "Key added.")}
          />
        </section>
      </CardBody>
      {budgeting ? (
        <BudgetDialog
          team={team}
          row={row}
          onClose={() => setBudgeting(false)}
          onSaved={(message) => {
            toast(message);
            setBudgeting(false);
            onChanged();
          }}
        />
      ) : null}
    </Card>
  );
}
