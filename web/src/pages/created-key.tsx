// The "shown once" dialog of a new client key: the key with a copy
// button, the gateway's base URL and a copyable snippet for each official
// SDK (the key's own provider first), and a test request whose trace is
// shown right there.
import { Check, Copy, Send } from "lucide-react";
import { useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { Button } from "../components/ui/button.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { ErrorNote, Spinner } from "../components/ui/states.tsx";
import { describeError } from "../lib/api.ts";
import { copyText } from "../lib/clipboard.ts";
import { formatDuration, statusTone } from "../lib/format.ts";
import { dialectOf, proxyRoot, snippets, testPath, type Dialect, type Snippet } from "../lib/snippets.ts";
import { useApi } from "../lib/use-api.ts";
import { call, read, type AnswerOf, type Schema } from "../lib/client.ts";

/** The test request's answer and, once written, its trace. */
interface TestOutcome {
  answer: AnswerOf<"client_keys_test_request">;
  trace: Schema<"TraceSummary"> | null;
}

/** How long the test request's trace is waited for (the writer flushes within a second). */
const TRACE_WAIT_MS = 5000;

function CopyButton({ text, label, onCopied }: { text: string; label: string; onCopied?: (ok: boolean) => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      variant="outline"
      size="sm"
      aria-label={label}
      onClick={async () => {
        const ok = await copyText(text);
        setCopied(ok);
        onCopied?.(ok);
      }}
    >
      {copied ? <Check className="text-success" /> : <Copy />} {copied ? "Copied" : "Copy"}
    </Button>
  );
}

/** Sends the test request and waits for its trace. */
async function testRequest(key: string, path: string): Promise<TestOutcome> {
  const answer = await call("client_keys_test_request", { body: { key, path } });
  if (!answer.request_id) return { answer, trace: null };
  const deadline = Date.now() + TRACE_WAIT_MS;
  for (;;) {
    const page = await call("traces_list", { query: { page_size: 1, q: answer.request_id } });
    if (page.items?.length) return { answer, trace: page.items[0] };
    if (Date.now() > deadline) return { answer, trace: null };
    await new Promise((r) => setTimeout(r, 250));
  }
}

function TestResult({ result }: { result: TestOutcome }) {
  const t = result.trace;
  return (
    <div className="grid gap-1 rounded-md border p-3 text-sm" data-testid="test-request-result" aria-live="polite">
      <div className="flex flex-wrap items-center gap-2">
        <Badge tone={statusTone(result.answer.status)}>{result.answer.status}</Badge>
        <span>{result.answer.status < 400 ? "The gateway answered with this key." : "The gateway refused or failed this request."}</span>
      </div>
      {t ? (
        <p className="text-muted-foreground">
          {/* A new tab: leaving this dialog would lose the key, which is shown once. */}
          <a className="font-medium text-primary underline" href={`/logs?id=${t.id}`} target="_blank" rel="noopener noreferrer">
            Trace {t.id}
          </a>
          <span className="sr-only"> (opens in a new tab)</span>{" "}
          · {t.method} {t.path} · {t.provider_name ?? "no provider"} · upstream key {t.upstream_key_name ?? "none"} · {formatDuration(t.duration_ms)}
          {t.error_class ? ` · ${t.error_class}` : ""}
        </p>
      ) : (
        <p className="text-muted-foreground">Its trace was not written yet; look in Logs in a moment.</p>
      )}
    </div>
  );
}

/** One tab per SDK (the key's own first): its base URL and a copyable snippet. */
function SnippetTabs({ snippets: all, dialect, onDialect }: { snippets: Snippet[]; dialect: Dialect | null; onDialect: (d: Dialect) => void }) {
  const current = all.find((s) => s.dialect === dialect) ?? all[0];
  if (!current) return null;
  return (
    <section className="grid gap-2" aria-label="Use the key">
      <div className="flex flex-wrap gap-1" role="tablist" aria-label="SDK">
        {all.map((s) => (
          <Button
            key={s.dialect}
            role="tab"
            aria-selected={s.dialect === current.dialect}
            variant={s.dialect === current.dialect ? "secondary" : "ghost"}
            size="sm"
            onClick={() => onDialect(s.dialect)}
          >
            {s.label}
          </Button>
        ))}
      </div>
      <div className="flex items-center justify-between gap-2 text-sm">
        <span>
          Base URL <code className="rounded bg-muted px-1.5 py-0.5 text-xs" data-testid="sdk-base-url">{current.baseUrl}</code>
        </span>
        <CopyButton text={current.code} label={`Copy the ${current.label} snippet`} />
      </div>
      <pre className="max-h-60 overflow-auto rounded-md bg-muted p-3 text-xs" data-testid="sdk-snippet" tabIndex={0} aria-label={`${current.label} snippet`}>
        {current.code}
      </pre>
    </section>
  );
}

interface CreatedKeyProps {
  /** The create answer, which alone carries the key; null when closed. */
  created: Schema<"ClientKeyView"> | null;
  providers: Schema<"ProviderView">[] | null | undefined;
  onClose: () => void;
}

export function CreatedKeyDialog({ created, providers, onClose }: CreatedKeyProps) {
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = created?.key ?? "";
  const gateway = useApi(created ? read("health_gateway") : null);
  const provider = providers?.find((p) => p.id === created?.provider_id);
  const dialect = dialectOf(provider?.plugin ?? provider?.name);
  const root = proxyRoot(gateway.data);
  const all = root && created ? snippets({ root, key, allowedModels: created.allowed_models }) : [];
  const ordered = [...all.filter((s) => s.dialect === dialect), ...all.filter((s) => s.dialect !== dialect)];
  const [tab, setTab] = useState<Dialect | null>(null);

  const close = () => {
    setResult(null);
    setError(null);
    setCopied(false);
    setTab(null);
    onClose();
  };
  const send = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await testRequest(key, testPath(dialect)));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={Boolean(created)}
      onOpenChange={(o) => !o && close()}
      title="Client key created"
      description="Copy it now: the gateway stores only a hash and cannot show it again."
      footer={<Button onClick={close}>Done</Button>}
      wide
    >
      <div className="grid gap-4">
        <div className="flex items-center gap-2">
          <code className="min-w-0 flex-1 break-all rounded-md border bg-muted px-3 py-2 font-mono text-sm" data-testid="new-client-key">
            {created?.key}
          </code>
          <Button variant="outline" size="icon" aria-label="Copy key" onClick={async () => setCopied(await copyText(key))}>
            {copied ? <Check className="text-success" /> : <Copy />}
          </Button>
        </div>
        <p className="text-sm text-muted-foreground" aria-live="polite">
          {copied ? "Copied to the clipboard." : "Use it as the API key of your SDK, with the gateway as its base URL."}
        </p>
        <ErrorNote error={gateway.error} />
        <SnippetTabs snippets={ordered} dialect={tab} onDialect={setTab} />
        <div className="grid gap-2">
          <div>
            <Button variant="outline" onClick={send} disabled={busy || !created}>
              {busy ? <Spinner /> : <Send />} Send a test request
            </Button>
          </div>
          <ErrorNote error={error} />
          {result ? <TestResult result={result} /> : null}
        </div>
      </div>
    </Dialog>
  );
}
