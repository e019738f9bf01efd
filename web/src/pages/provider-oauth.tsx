// A provider's OAuth endpoints: the plugin declares them, an operator may
// override them (PUT /api/providers/{id} with `oauth`) or go back to the
// plugin's (`oauth: null`). The client secret is write-only.
import { ConfirmDialog, FormDialog } from "../components/ui/dialog.tsx";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Field, Input, Textarea } from "../components/ui/input.tsx";

import { callbackUri, headersText, oauthOverrideInput, paramsText } from "../lib/oauth.ts";
import { call, type Schema } from "../lib/client.ts";

type Provider = Schema<"ProviderView">;

/** "OAuth" on a provider's row, saying where its endpoints come from. */
export function OAuthBadge({ oauth }: { oauth: Provider["oauth"] }) {
  if (!oauth) return null;
  const custom = oauth.source === "override";
  return (
    <Badge tone={custom ? "warning" : "outline"} title={custom ? "OAuth endpoints set by an operator" : "OAuth endpoints from the plugin"} data-testid="provider-oauth">
      OAuth{custom ? " (custom)" : ""}
    </Badge>
  );
}

/** `onResetRequest` asks to drop the override (offered when there is one). */
interface SettingsProps {
  provider: Provider | null;
  onClose: () => void;
  /** Called with the toast's words. */
  onSaved: (message: string) => void;
  onResetRequest?: () => void;
}

export function OAuthSettingsDialog({ provider, onClose, onSaved, onResetRequest }: SettingsProps) {
  if (!provider) return null;
  const o = provider.oauth;
  const custom = o?.source === "override";
  const save = async (form: FormData) => {
    const oauth = oauthOverrideInput(form);
    await call("providers_update", { path: { id: provider.id }, body: { oauth } });
    onSaved(`OAuth endpoints of ${provider.name} saved.`);
  };
  return (
    <FormDialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={`OAuth settings of ${provider.name}`}
      description={
        o
          ? custom
            ? "These endpoints override the plugin's. Saving replaces the override; Use the plugin's endpoints removes it."
            : "These endpoints come from the plugin. Saving stores an override for this provider, e.g. to point it at another authorization server."
          : "The plugin declares no OAuth endpoints. Set them to let this provider's keys sign in with OAuth accounts."
      }
      submitLabel="Save override"
      onSubmit={save}
      wide
    >
      <div className="grid items-start gap-4 sm:grid-cols-2">
        <Field label="Authorize URL" className="sm:col-span-2">
          {(id) => <Input id={id} name="authorize_url" type="url" defaultValue={o?.authorize_url} placeholder="https://example.com/oauth/authorize" autoComplete="off" />}
        </Field>
        <Field label="Token URL" className="sm:col-span-2">
          {(id) => <Input id={id} name="token_url" type="url" defaultValue={o?.token_url} placeholder="https://example.com/oauth/token" autoComplete="off" />}
        </Field>
        <Field label="Client ID">{(id) => <Input id={id} name="client_id" defaultValue={o?.client_id} autoComplete="off" spellCheck={false} />}</Field>
        <Field
          label="Client secret"
          hint={
            o?.has_client_secret
              ? "One is stored. Saving replaces the whole override: enter it again to keep it; empty saves none."
              : "Only for confidential clients; public (PKCE) clients have none."
          }
        >
          {(id) => <Input id={id} name="client_secret" type="password" autoComplete="new-password" placeholder="none" />}
        </Field>
        <Field label="Scopes" hint="Separated by spaces." className="sm:col-span-2">
          {(id) => <Input id={id} name="scopes" defaultValue={(o?.scopes ?? []).join(" ")} autoComplete="off" spellCheck={false} />}
        </Field>
        <Field label="Extra parameters" hint="Added to the authorization URL, one key=value per line.">
          {(id) => <Textarea id={id} name="extra_params" rows={3} defaultValue={paramsText(o?.extra_params)} spellCheck={false} />}
        </Field>
        <Field
          label="Redirect URI"
          hint={`Empty: the provider sends the browser back to this console (${callbackUri(window.location.origin)}). Set it for apps whose page shows a code to paste.`}
        >
          {(id) => <Input id={id} name="redirect_uri" type="url" defaultValue={o?.redirect_uri ?? ""} placeholder="this console" autoComplete="off" />}
        </Field>
        <Field label="Request headers" hint="Added to upstream requests made with this provider's OAuth keys, one Name: value per line." className="sm:col-span-2">
          {(id) => (
            <Textarea
              id={id}
              name="request_headers"
              rows={2}
              defaultValue={headersText(o?.request_headers)}
              placeholder="anthropic-beta: oauth-2025-04-20"
              spellCheck={false}
            />
          )}
        </Field>
      </div>
      {custom ? (
        <Button variant="link" className="h-auto w-fit p-0 text-destructive" onClick={onResetRequest}>
          Use the plugin's endpoints…
        </Button>
      ) : null}
    </FormDialog>
  );
}

/** Confirms dropping a provider's override; its keys sign in with the plugin's endpoints again. */
interface ResetProps {
  provider: Provider | null;
  onClose: () => void;
  onReset: (message: string) => void;
}

export function ResetOAuthDialog({ provider, onClose, onReset }: ResetProps) {
  return (
    <ConfirmDialog
      open={Boolean(provider)}
      onOpenChange={(open) => !open && onClose()}
      title={`Use the plugin's OAuth endpoints for ${provider?.name ?? ""}?`}
      confirmLabel="Remove override"
      onConfirm={async () => {
        if (!provider) return;
        await call("providers_update", { path: { id: provider.id }, body: { oauth: null } });
        onReset(`${provider.name} uses the plugin's OAuth endpoints again.`);
      }}
    >
      The override, its client secret included, is deleted; new sign-ins and refreshes use the plugin's endpoints. Keys connected through the
      override may need reconnecting.
    </ConfirmDialog>
  );
}
