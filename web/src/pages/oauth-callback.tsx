// /oauth/callback: where a provider sends the browser after an OAuth
// sign-in started from Upstream Keys. It posts the whole address to
// POST /api/oauth/exchange once, takes the code out of the address bar
// (a reload must not replay it), tells the console's other tabs, and
// shows the connected key or the error in words.
import { CheckCircle2 } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { Card } from "../components/ui/card.tsx";
import { buttonClass } from "../components/ui/button.tsx";
import { Empty, ErrorNote, Loading } from "../components/ui/states.tsx";

import { formatDateTime } from "../lib/format.ts";
import { CALLBACK_PATH, callbackParams, oauthErrorWords, untilWords } from "../lib/oauth.ts";
import { linkHandler, navigate } from "../lib/router.ts";
import { announceConnected } from "./oauth-connect.tsx";
import { call } from "../lib/client.ts";
import type { AnswerOf } from "../lib/client.ts";
import type { PageProps } from "../components/layout.tsx";

function BackLink() {
  return (
    <a href="/upstream-keys" onClick={linkHandler("/upstream-keys")} className={buttonClass({ variant: "outline", className: "w-fit" })}>
      Back to Upstream Keys
    </a>
  );
}

/** Where the page is: exchanging the code, done (the key or the words why not), or nothing to do. */
type CallbackResult =
  | { phase: "exchanging" }
  | { phase: "nothing" }
  | { phase: "connected"; key: AnswerOf<"upstream_oauth_exchange"> }
  | { phase: "failed"; error: string };

export function OAuthCallbackPage({ search }: Pick<PageProps, "search">) {
  const [result, setResult] = useState<CallbackResult>(() => {
    const p = callbackParams(search);
    return p.code || p.error ? { phase: "exchanging" } : { phase: "nothing" };
  });
  const started = useRef(false);

  useEffect(() => {
    if (started.current || result.phase !== "exchanging") return;
    started.current = true;
    // The code leaves the address bar once the gateway has answered (a
    // 401 before that sends the operator to the login and back here).
    const done = (next: CallbackResult) => {
      navigate(CALLBACK_PATH, { replace: true });
      setResult(next);
    };
    call("upstream_oauth_exchange", { body: { callback_url: window.location.href } }).then(
      (key) => {
        announceConnected(key);
        done({ phase: "connected", key });
      },
      (e) => done({ phase: "failed", error: oauthErrorWords(e) }),
    );
  }, [result.phase]);

  return (
    <Card className="mx-auto max-w-xl p-5 sm:p-6" data-testid="oauth-callback">
      {result.phase === "exchanging" ? (
        <Loading label="Finishing the connection…" />
      ) : result.phase === "nothing" ? (
        <Empty title="Nothing to finish here" action={<BackLink />}>
          This page finishes an OAuth sign-in started with Connect on Upstream Keys; it was opened without one.
        </Empty>
      ) : result.phase === "connected" ? (
        <div className="grid gap-4" role="status">
          <div className="flex items-start gap-3">
            <CheckCircle2 className="mt-0.5 size-6 shrink-0 text-success" aria-hidden="true" />
            <div className="grid gap-1">
              <p className="text-lg font-semibold leading-tight">{result.key.name} is connected</p>
              <p className="text-sm text-muted-foreground">
                {result.key.oauth?.expires_at
                  ? `Its access token expires ${formatDateTime(result.key.oauth.expires_at)} (${untilWords(result.key.oauth.expires_at) || "now"}); the gateway refreshes it before then.`
                  : "The gateway uses it from now on."}
              </p>
              <p className="text-sm text-muted-foreground">You can close this tab.</p>
            </div>
          </div>
          <BackLink />
        </div>
      ) : (
        <div className="grid gap-4">
          <p className="text-lg font-semibold leading-tight">The account was not connected</p>
          <ErrorNote error={result.error} />
          <BackLink />
        </div>
      )}
    </Card>
  );
}
