// OAuth 2.0 clients: an id and secret that trade for a short-lived token
// at the proxy's /oauth/token, acting as one client key. The secret is
// shown once, like a client key.
import { Check, Copy, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { Button } from "../components/ui/button.tsx";
import { Card, CardHeader } from "../components/ui/card.tsx";
import { ConfirmDialog, Dialog, FormDialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";
import { Switch } from "../components/ui/switch.tsx";
import { STICKY_END, Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { describeError } from "../lib/api.ts";
import { copyText } from "../lib/clipboard.ts";
import { cn } from "../lib/cn.ts";
import { formatDateTime } from "../lib/format.ts";
import { useApi } from "../lib/use-api.ts";
import { call, read, type Schema } from "../lib/client.ts";

type OAuthClient = Schema<"OAuthClientView">;

/** The token request, for the hint and the created dialog. */
export function tokenCommand(clientId = "CLIENT_ID", secret = "SECRET", host = "<gateway>"): string {
  return `curl -u ${clientId}:${secret} http://${host}:8080/oauth/token -d grant_type=client_credentials`;
}

function CopyRow({ label, value, testId }: { label: string; value: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="grid gap-1.5">
      <span className="text-sm font-medium">{label}</span>
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 break-all rounded-md border bg-muted px-3 py-2 font-mono text-sm" data-testid={testId}>
          {value}
        </code>
        <Button variant="outline" size="icon" aria-label={`Copy ${label.toLowerCase()}`} onClick={async () => setCopied(await copyText(value))}>
          {copied ? <Check className="text-success" /> : <Copy />}
        </Button>
      </div>
    </div>
  );
}

function CreatedDialog({ created, onClose }: { created: OAuthClient | null; onClose: () => void }) {
  const host = typeof window === "undefined" ? undefined : window.location.hostname;
  return (
    <Dialog
      open={Boolean(created)}
      onOpenChange={(o) => !o && onClose()}
      title="OAuth client created"
      description="Copy the secret now: the gateway stores only a hash and cannot show it again."
      footer={<Button onClick={onClose}>Done</Button>}
    >
      {created ? (
        <div className="grid gap-3">
          <CopyRow label="Client ID" value={created.client_id} testId="new-oauth-client-id" />
          <CopyRow label="Client secret" value={created.client_secret ?? ""} testId="new-oauth-client-secret" />
          <p className="text-sm text-muted-foreground">Get a token with:</p>
          <code className="break-all rounded-md border bg-muted px-3 py-2 font-mono text-xs">{tokenCommand(created.client_id, created.client_secret ?? undefined, host)}</code>
        </div>
      ) : null}
    </Dialog>
  );
}

export function OAuthClients({ clientKeys }: { clientKeys: Pick<Schema<"ClientKeyView">, "id" | "name">[] }) {
  const clients = useApi(read("oauth_clients_list"));
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<OAuthClient | null>(null);
  const [deleting, setDeleting] = useState<OAuthClient | null>(null);
  const keyName = (id: number) => clientKeys.find((k) => k.id === id)?.name ?? `#${id}`;

  const create = async (form: FormData) => {
    const name = String(form.get("name") ?? "").trim();
    if (!name) throw new Error("Give the client a name.");
    const answer = await call("oauth_clients_create", { body: { name, client_key_id: Number(form.get("client_key_id")) } });
    setCreating(false);
    setCreated(answer);
    clients.reload();
  };

  const setEnabled = async (c: OAuthClient, enabled: boolean) => {
    try {
      await call("oauth_clients_update", { path: { id: c.id }, body: { enabled } });
      toast(`${c.name} ${enabled ? "enabled" : "disabled"}.`);
    } catch (e) {
      toast(describeError(e), { tone: "error" });
    }
    clients.reload();
  };

  return (
    <Card className="mt-4" data-testid="oauth-clients">
      <CardHeader
        title="OAuth clients"
        description={
          <>
            Services that sign in with client credentials instead of holding a key. Get a token with
            <code className="mt-1 block break-words font-mono text-xs">{tokenCommand()}</code>
          </>
        }
        action={
          <Button variant="outline" onClick={() => setCreating(true)} disabled={!clientKeys.length}>
            <Plus /> Add OAuth client
          </Button>
        }
      />
      <ErrorNote error={clients.error} onRetry={clients.reload} className="m-4" />
      {clients.loading && !clients.data ? (
        <Loading />
      ) : !clients.data?.length ? (
        <Empty title="No OAuth clients">Each client acts as one client key, with its limits and pool.</Empty>
      ) : (
        <Table minWidth={640}>
          <thead>
            <tr>
              <Th>Name</Th>
              <Th>Client ID</Th>
              <Th>Client key</Th>
              <Th>Created</Th>
              <Th>Enabled</Th>
              <Th className={cn("text-right", STICKY_END)}>Actions</Th>
            </tr>
          </thead>
          <tbody>
            {clients.data.map((c) => (
              <Tr key={c.id} data-testid={`oauth-client-${c.name}`}>
                <Td primary className="font-medium">
                  {c.name}
                </Td>
                <Td label="Client ID">
                  <code className="text-xs text-muted-foreground">{c.client_id}</code>
                </Td>
                <Td label="Client key">{keyName(c.client_key_id)}</Td>
                <Td label="Created" className="text-muted-foreground">
                  {formatDateTime(c.created_at)}
                </Td>
                <Td label="Enabled">
                  <Switch checked={c.enabled} onCheckedChange={(v) => setEnabled(c, v)} aria-label={`${c.name} enabled`} />
                </Td>
                <Td actions>
                  <div className="flex justify-end">
                    <Button variant="ghost" size="icon" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c)}>
                      <Trash2 className="text-destructive" />
                    </Button>
                  </div>
                </Td>
              </Tr>
            ))}
          </tbody>
        </Table>
      )}
      {creating ? (
        <FormDialog open onOpenChange={(o) => !o && setCreating(false)} title="Add OAuth client" submitLabel="Create client" onSubmit={create}>
          <Field label="Name" hint="Who uses it, e.g. ci.">
            {(id) => <Input id={id} name="name" required maxLength={128} autoComplete="off" />}
          </Field>
          <Field label="Client key" hint="Its tokens act as this key. It cannot change later.">
            {(id) => (
              <Select id={id} name="client_key_id" defaultValue={clientKeys[0]?.id}>
                {clientKeys.map((k) => (
                  <option key={k.id} value={k.id}>
                    {k.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </FormDialog>
      ) : null}
      <CreatedDialog created={created} onClose={() => setCreated(null)} />
      <ConfirmDialog
        open={Boolean(deleting)}
        onOpenChange={(o) => !o && setDeleting(null)}
        title={`Delete ${deleting?.name ?? ""}?`}
        onConfirm={async () => {
          if (!deleting) return;
          await call("oauth_clients_delete", { path: { id: deleting.id } });
          toast(`${deleting.name} deleted.`);
          clients.reload();
        }}
      >
        The client can no longer get tokens, and the tokens it holds stop working at once. To pause it instead, switch it off.
      </ConfirmDialog>
    </Card>
  );
}
