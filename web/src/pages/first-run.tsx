// The dashboard of a gateway nothing has passed through yet: the steps
// from an empty install to the first logged request, each ticked off as
// the API shows it done, each a link to where it is done.
import type { ReactNode } from "react";
import { CheckCircle2, Circle } from "lucide-react";
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { linkHandler } from "../lib/router.ts";
import { useApi } from "../lib/use-api.ts";
import { read } from "../lib/client.ts";

function Item({ done, to, children }: { done?: boolean; to: string; children: ReactNode }) {
  const Icon = done ? CheckCircle2 : Circle;
  return (
    <li className="flex items-start gap-2 text-sm">
      <Icon className={done ? "mt-0.5 size-4 shrink-0 text-success" : "mt-0.5 size-4 shrink-0 text-muted-foreground"} aria-hidden="true" />
      <span>
        <span className="sr-only">{done ? "Done: " : "To do: "}</span>
        {to && !done ? (
          <a href={to} onClick={linkHandler(to)} className="font-medium text-primary underline-offset-4 hover:underline">
            {children}
          </a>
        ) : (
          children
        )}
      </span>
    </li>
  );
}

export function FirstRun({ admin }: { admin: boolean }) {
  const upstream = useApi(admin ? read("upstream_keys_list") : null);
  const clients = useApi(read("client_keys_list"));
  const hasUpstream = Boolean(upstream.data?.length);
  const hasClient = Boolean(clients.data?.length);
  return (
    <Card data-testid="first-run">
      <CardHeader title="Getting started" description="Nothing has passed through the gateway in this range yet." />
      <CardBody>
        <ol className="grid gap-2">
          {admin ? (
            <>
              <Item to="/providers">Check each provider's base URL (Providers & Plugins).</Item>
              <Item done={hasUpstream} to="/upstream-keys">
                Add an upstream key: the provider's API key the gateway sends.
              </Item>
            </>
          ) : null}
          <Item done={hasClient} to="/client-keys">
            Create a client key: the key your application sends. Its dialog shows the base URL and code for your SDK.
          </Item>
          <Item to="/client-keys">Send a test request from that dialog, or run the snippet; it then shows up under Logs.</Item>
        </ol>
      </CardBody>
    </Card>
  );
}
