// Teams (issue 19): who belongs to each, which client keys it spends
// through, and its monthly budget with this month's spend against it.
// Admins create teams and set budgets; a member sees its own teams and
// may put its own keys into them.
import { Plus } from "lucide-react";
import { useState } from "react";
import { PageIntro, type PageProps } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { useToast } from "../components/ui/toast.tsx";

import { useApi } from "../lib/use-api.ts";
import { SpendReport } from "./spend-report.tsx";
import { TeamCard } from "./team-card.tsx";
import { call, read, type Schema } from "../lib/client.ts";

export function TeamsPage({ user }: Pick<PageProps, "user">) {
  const admin = user.role === "admin";
  const teams = useApi(read("teams_list"));
  const report = useApi(read("teams_report"));
  const users = useApi(admin ? read("users_list") : null);
  const keys = useApi(read("client_keys_list"));
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const reload = () => {
    teams.reload();
    report.reload();
    keys.reload();
  };
  const rowOf = (team: Schema<"TeamView">) => {
    const data = report.data;
    const row = data?.teams?.find((t) => t.id === team.id);
    return data && row ? { ...row, keys: data.keys } : null;
  };
  return (
    <>
      <PageIntro
        actions={
          admin ? (
            <Button onClick={() => setAdding(true)}>
              <Plus /> Add team
            </Button>
          ) : null
        }
      >
        A request is admitted only while its key, its owner and its team all have budget left. Spend is this calendar month's.
      </PageIntro>
      <ErrorNote error={teams.error ?? report.error} onRetry={reload} className="mb-4" />
      {teams.loading && !teams.data ? (
        <Loading />
      ) : !teams.data?.length ? (
        <Empty title="No teams yet">{admin ? "Add a team, then its members and keys." : "You are in no team."}</Empty>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          {teams.data.map((team) => (
            <TeamCard
              key={team.id}
              team={team}
              row={rowOf(team)}
              users={users.data ?? []}
              keys={keys.data ?? []}
              admin={admin}
              me={user.id}
              onChanged={reload}
            />
          ))}
        </div>
      )}
      <SpendReport report={report.data} />
      {adding ? (
        <FormDialog
          open
          onOpenChange={(o) => !o && setAdding(false)}
          title="Add team"
          submitLabel="Add team"
          onSubmit={async (form) => {
            const name = String(form.get("name") ?? "").trim();
            if (!name) throw new Error("A team needs a name.");
            await call("teams_create", { body: { name } });
            toast(`Team ${name} created.`);
            setAdding(false);
            reload();
          }}
        >
          <Field label="Team name">{(id) => <Input id={id} name="name" autoComplete="off" required />}</Field>
        </FormDialog>
      ) : null}
    </>
  );
}
