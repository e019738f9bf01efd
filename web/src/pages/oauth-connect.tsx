// Connecting an upstream key to an OAuth account: the dialog that starts
// the sign-in (POST /api/oauth/authorize) and takes a pasted callback URL
// or code (POST /api/oauth/exchange), and the key's credential cell with
// its state tag and Connect / Refresh now / Revoke. When the provider
// sends the browser back to the console's callback page in another tab,
// that page tells this one over a BroadcastChannel and the dialog closes.
import { ExternalLink, Link2, RefreshCw, Unplug } from "lucide-react";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { Button, buttonClass } from "../components/ui/button.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { ErrorNote, Loading, Spinner } from "../components/ui/states.tsx";

import { formatDateTime } from "../lib/format.ts";
import { callbackUri, exchangeBody, oauthErrorWords, oauthTag, untilWords, wasConnected } from "../lib/oauth.ts";
import { call, type AnswerOf, type Schema } from "../lib/client.ts";

type Key = Schema<"UpstreamKeyView">;

/** Tabs of the console tell each other about a finished connection here. */
export const OAUTH_CHANNEL = "aip-oauth";

/** Tells other tabs that `key` is connected now. */
export function announceConnected(key: Key): void {
  if (typeof BroadcastChannel === "undefined") return;
  const channel = new BroadcastChannel(OAUTH_CHANNEL);
  channel.postMessage({ type: "connected", key });
  channel.close();
}

/** Calls `onKey(key)` when another tab connects a key. */
/** The key of a "connected" message from another tab; null for any other message. */
function connectedKey(data: unknown): Key | null {
  if (data === null || typeof data !== "object" || !("type" in data) || data.type !== "connected" || !("key" in data)) return null;
  const key = data.key;
  // Only this console posts on the channel, with the exchange's answer.
  return key !== null && typeof key === "object" && "id" in key && typeof key.id === "number" ? (key as Key) : null;
}

function useConnectedElsewhere(onKey: (key: Key) => void) {
  const handler = useRef(onKey);
  handler.current = onKey;
  useEffect(() => {
    if (typeof BroadcastChannel === "undefined") return undefined;
    const channel = new BroadcastChannel(OAUTH_CHANNEL);
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const key = connectedKey(event.data);
      if (key) handler.current(key);
    };
    return () => channel.close();
  }, []);
}

/** The sign-in for one key; `onConnected(keyView)` after a successful exchange. */
interface ConnectDialogProps {
  keyRow: Key | null;
  onClose: () => void;
  onConnected: (key: Key) => void;
}

export function ConnectDialog({ keyRow, onClose, onConnected }: ConnectDialogProps) {
  const [session, setSession] = useState<AnswerOf<"upstream_oauth_authorize"> | null>(null);
  const [startError, setStartError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [pasted, setPasted] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const formId = useId();
  const origin = window.location.origin;

  useEffect(() => {
    if (!keyRow) return undefined;
    let live = true;
    setSession(null);
    setStartError(null);
    setError(null);
    setPasted("");
    call("upstream_oauth_authorize", { body: { key_id: keyRow.id, redirect_uri: callbackUri(origin) } }).then(
      (answer) => live && setSession(answer),
      (e) => live && setStartError(oauthErrorWords(e)),
    );
    return () => {
      live = false;
    };
  }, [keyRow, attempt, origin]);

  useConnectedElsewhere((key) => {
    if (keyRow && key.id === keyRow.id) onConnected(key);
  });

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError(null);
    let body: Schema<"ExchangeInput">;
    try {
      body = exchangeBody(pasted, session?.state);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return;
    }
    setBusy(true);
    try {
      const key = await call("upstream_oauth_exchange", { body });
      onConnected(key);
    } catch (e) {
      setError(oauthErrorWords(e));
    } finally {
      setBusy(false);
    }
  };

  const backHere = session && session.redirect_uri === callbackUri(origin);
  return (
    <Dialog
      open={Boolean(keyRow)}
      onOpenChange={(o) => !o && onClose()}
      title={`${wasConnected(keyRow?.oauth) ? "Reconnect" : "Connect"} ${keyRow?.name ?? ""}`}
      description="Sign in to the provider's account this key should use. The gateway stores the tokens encrypted and refreshes them itself."
      footer={
        <>
          <Button variant="outline" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" form={formId} disabled={!session || busy}>
            {busy ? <Spinner /> : <Link2 />} Connect
          </Button>
        </>
      }
    >
      {startError ? (
        <div className="grid gap-3">
          <ErrorNote error={startError} onRetry={() => setAttempt((a) => a + 1)} />
        </div>
      ) : !session ? (
        <Loading label="Starting the sign-in…" className="py-6" />
      ) : (
        <form id={formId} onSubmit={submit} className="grid gap-4" noValidate>
          <ol className="grid gap-3 text-sm">
            <li className="grid gap-2">
              <span>
                <span className="font-medium">1.</span> Open the provider's sign-in page and allow access.
              </span>
              <a
                href={session.authorization_url}
                target="_blank"
                rel="noopener noreferrer"
                className={buttonClass({ variant: "secondary", className: "w-fit" })}
                data-testid="oauth-sign-in-link"
              >
                <ExternalLink /> Open sign-in page
              </a>
            </li>
            <li className="text-muted-foreground">
              <span className="font-medium text-foreground">2.</span>{" "}
              {backHere
                ? "The provider then sends you back to this console, which finishes the connection in that tab. If it ends on a page that does not load, copy that page's address and paste it below."
                : `The provider then shows a code (its page is ${session.redirect_uri}). Copy the code and paste it below.`}
            </li>
          </ol>
          <Field label="Paste the callback URL or code" hint={`This sign-in is valid until ${formatDateTime(session.expires_at)}.`}>
            {(id) => (
              <Input
                id={id}
                value={pasted}
                onChange={(e) => setPasted(e.target.value)}
                autoComplete="off"
                spellCheck={false}
                placeholder={backHere ? `${callbackUri(origin)}?code=…&state=…` : "code#state"}
              />
            )}
          </Field>
          <ErrorNote error={error} />
        </form>
      )}
    </Dialog>
  );
}

/** The state tag of an OAuth key and its detail line. */
export function OAuthState({ oauth }: { oauth: Key["oauth"] }) {
  const tag = oauthTag(oauth);
  if (!tag) return null;
  return (
    <div className="grid gap-1">
      <Badge tone={tag.tone} className="w-fit max-sm:justify-self-end" data-testid="oauth-state">
        <span className="size-1.5 rounded-full bg-current" aria-hidden="true" />
        OAuth {tag.label}
      </Badge>
      {tag.detail ? (
        <div className="line-clamp-2 max-w-[220px] whitespace-normal text-xs text-muted-foreground max-sm:max-w-none" title={tag.detail} data-testid="oauth-detail">
          {tag.detail}
        </div>
      ) : null}
    </div>
  );
}

/** The credential of an upstream key: its secret's hint, or its OAuth state and actions. */
interface KeyCredentialProps {
  keyRow: Key;
  busy: boolean;
  onConnect: () => void;
  onRefresh: () => void;
  onRevoke: () => void;
}

export function KeyCredential({ keyRow, busy, onConnect, onRefresh, onRevoke }: KeyCredentialProps) {
  if (!keyRow.oauth) return <code className="text-xs text-muted-foreground">{keyRow.secret_hint}</code>;
  const state = keyRow.oauth.state;
  const connected = state === "connected";
  return (
    <div className="grid gap-1.5">
      <OAuthState oauth={keyRow.oauth} />
      <div className="flex items-center gap-1 max-sm:justify-end">
        <Button variant={connected ? "outline" : "default"} size="sm" onClick={onConnect} aria-label={`${wasConnected(keyRow.oauth) ? "Reconnect" : "Connect"} ${keyRow.name}`}>
          <Link2 /> {wasConnected(keyRow.oauth) ? "Reconnect" : "Connect"}
        </Button>
        {connected ? (
          <Button variant="ghost" size="icon" className="size-8" onClick={onRefresh} disabled={busy} aria-label={`Refresh ${keyRow.name} now`} title="Refresh now">
            {busy ? <Spinner /> : <RefreshCw />}
          </Button>
        ) : null}
        {state !== "revoked" && state !== "disconnected" ? (
          <Button variant="ghost" size="icon" className="size-8" onClick={onRevoke} aria-label={`Revoke ${keyRow.name}`} title="Revoke: erase the tokens">
            <Unplug className="text-destructive" />
          </Button>
        ) : null}
      </div>
    </div>
  );
}

/** "token expires in 8 h" for a toast after connecting or refreshing. */
export function expiryWords(key: Pick<Key, "oauth"> | null | undefined): string {
  const until = key?.oauth?.expires_at ? untilWords(key.oauth.expires_at) : "";
  return until ? `; the token expires ${until}` : "";
}
