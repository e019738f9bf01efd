// Accounts of the console and the admin API (admins only), and what each
// `user` account is granted.
import { Pencil, Plus, Trash2 } from "lucide-react";
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
import { formatDateTime } from "../lib/format.ts";
import { useApi } from "../lib/use-api.ts";
import { cn } from "../lib/cn.ts";
import { GrantsDialog } from "./user-grants.tsx";
import { call, read } from "../lib/client.ts";
import type { Schema, BodyOf } from "../lib/client.ts";

export const MIN_PASSWORD = 8;

function userInput(form: FormData, editing: Schema<"UserView"> | null): Schema<"UserInput"> {
  const body: Schema<"UserInput"> = {};
  const username = String(form.get("username") ?? "").trim();
  if (!editing || username !== editing.username) {
    if (!/^[A-Za-z0-9._\-@]{1,64}$/.test(username)) throw new Error("User names are 1 to 64 letters, digits or . _ - @");
    body.username = username;
  }
  const password = String(form.get("password") ?? "");
  if (password || !editing) {
    if (password.length < MIN_PASSWORD) throw new Error(`Passwords have at least ${MIN_PASSWORD} characters.`);
    body.password = password;
  }
  body.role = String(form.get("role"));
  return body;
}

type Account = Schema<"UserView">;

export function UsersPage({ user }: Pick<PageProps, "user">) {
  const users = useApi(read("users_list"));
  const toast = useToast();
  const [editing, setEditing] = useState<Account | "new" | null>(null);
  const [deleting, setDeleting] = useState<Account | null>(null);
  const [granting, setGranting] = useState<Account | null>(null);

  const save = async (form: FormData) => {
    const current = editing === "new" ? null : editing;
    const body = userInput(form, current);
    await (current ? call("users_update", { path: { id: current.id }, body }) : call("users_create", { body: body as BodyOf<"users_create"> }));
    toast(current ? "Account saved." : `Account ${body.username} created.`);
    setEditing(null);
    users.reload();
  };

  const setEnabled = async (u: Account, enabled: boolean) => {
    try {
      await call("users_update", { path: { id: u.id }, body: { enabled } });
      toast(`${u.username} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    users.reload();
  };

  const edit = editing === "new" ? null : editing;
  return (
    <>
      <PageIntro
        actions={
          <Button onClick={() => setEditing("new")}>
            <Plus /> Add account
          </Button>
        }
      >
        Admins manage everything; users manage their own client keys, within the upstream keys and limits they are granted, and see only their own traffic.
      </PageIntro>
      <Card>
        <ErrorNote error={users.error} onRetry={users.reload} className="m-4" />
        {users.loading && !users.data ? (
          <Loading />
        ) : !users.data?.length ? (
          <Empty title="No accounts" />
        ) : (
          <Table minWidth={640}>
            <thead>
              <tr>
                <Th>User name</Th>
                <Th>Role</Th>
                <Th>Enabled</Th>
                <Th>Created</Th>
                <Th className={cn("text-right", STICKY_END)}>Actions</Th>
              </tr>
            </thead>
            <tbody>
              {users.data.map((u) => (
                <Tr key={u.id}>
                  <Td primary className="font-medium">
                    {u.username}
                    {u.id === user.id ? <span className="ml-2 text-xs text-muted-foreground">(you)</span> : null}
                  </Td>
                  <Td label="Role">
                    <Badge tone={u.role === "admin" ? "primary" : "neutral"}>{u.role}</Badge>
                  </Td>
                  <Td label="Enabled">
                    <Switch checked={u.enabled} onCheckedChange={(v) => setEnabled(u, v)} aria-label={`${u.username} enabled`} />
                  </Td>
                  <Td label="Created" className="whitespace-nowrap text-muted-foreground">
                    {formatDateTime(u.created_at)}
                  </Td>
                  <Td actions>
                    <div className="flex justify-end gap-1">
                      {u.role === "user" ? (
                        <Button variant="ghost" size="sm" aria-label={`Grants of ${u.username}`} onClick={() => setGranting(u)}>
                          Grants
                        </Button>
                      ) : null}
                      <Button variant="ghost" size="icon" aria-label={`Edit ${u.username}`} onClick={() => setEditing(u)}>
                        <Pencil />
                      </Button>
                      <Button
                        variant="ghost"
                        size="icon"
                        aria-label={`Delete ${u.username}`}
                        disabled={u.id === user.id}
                        onClick={() => setDeleting(u)}
                      >
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
          title={edit ? `Edit ${edit.username}` : "Add account"}
          submitLabel={edit ? "Save" : "Add account"}
          onSubmit={save}
        >
          <Field label="User name">
            {(id) => <Input id={id} name="username" defaultValue={edit?.username} autoComplete="off" required />}
          </Field>
          <Field label="Password" hint={edit ? "Leave empty to keep it. A new one ends the account's sessions." : `At least ${MIN_PASSWORD} characters.`}>
            {(id) => <Input id={id} name="password" type="password" autoComplete="new-password" />}
          </Field>
          <Field label="Role">
            {(id) => (
              <Select id={id} name="role" defaultValue={edit?.role ?? "user"}>
                <option value="user">user: own client keys and traffic</option>
                <option value="admin">admin: everything</option>
              </Select>
            )}
          </Field>
        </FormDialog>
      ) : null}
      {granting ? (
        <GrantsDialog
          account={granting}
          onClose={() => setGranting(null)}
          onSaved={(message) => {
            toast(message);
            setGranting(null);
          }}
        />
      ) : null}
      <ConfirmDialog
        open={Boolean(deleting)}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete ${deleting?.username ?? ""}?`}
        onConfirm={async () => {
          if (!deleting) return;
          await call("users_delete", { path: { id: deleting.id } });
          toast(`${deleting.username} deleted.`);
          users.reload();
        }}
      >
        The account can no longer sign in and its client keys stop working. To keep it for later, switch it off instead.
      </ConfirmDialog>
    </>
  );
}
