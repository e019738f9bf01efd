// Drag-and-drop upload of a plugin component: POST /api/plugins with the
// .wasm as multipart "file". The gateway's verdict is shown in words.
import { FileUp, UploadCloud } from "lucide-react";
import { useRef, useState } from "react";
import { Button } from "../components/ui/button.tsx";
import { ErrorNote, Spinner } from "../components/ui/states.tsx";
import { ApiError, describeError } from "../lib/api.ts";
import { cn } from "../lib/cn.ts";
import { pluginForm, wasmFileProblem } from "../lib/plugin-file.ts";
import { call, type Schema } from "../lib/client.ts";

type Plugin = Schema<"PluginView">;

export function PluginUpload({ onUploaded }: { onUploaded?: (plugin: Plugin) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<Plugin | null>(null);

  const upload = async (file: File | undefined) => {
    setError(null);
    setResult(null);
    const problem = await wasmFileProblem(file);
    if (problem || !file) {
      setError(problem ?? "Choose a .wasm file.");
      return;
    }
    setBusy(true);
    try {
      const answer = await call("plugins_upload", { form: pluginForm(file) });
      setResult(answer);
      onUploaded?.(answer);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
        setError("This gateway does not accept plugin uploads yet (POST /api/plugins is missing). Load plugins with AI_PROXY_PLUGIN_FILES for now.");
      } else {
        setError(describeError(e));
      }
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };

  return (
    <div className="grid gap-3">
      <div
        role="button"
        tabIndex={0}
        data-testid="plugin-dropzone"
        onClick={() => input.current?.click()}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            input.current?.click();
          }
        }}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          upload(e.dataTransfer.files?.[0]);
        }}
        className={cn(
          "flex cursor-pointer flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed px-4 py-8 text-center transition-colors",
          "focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring",
          over ? "border-primary bg-primary/5" : "border-input hover:bg-muted/50",
        )}
      >
        {busy ? <Spinner className="size-6" /> : <UploadCloud className="size-7 text-muted-foreground" aria-hidden="true" />}
        <p className="text-sm font-medium">{busy ? "Uploading and validating…" : "Drop a plugin .wasm here"}</p>
        <p className="text-xs text-muted-foreground">or click to choose a file. The gateway checks the component before it is stored.</p>
        <input ref={input} type="file" accept=".wasm,application/wasm" className="hidden" data-testid="plugin-file" onChange={(e) => upload(e.target.files?.[0])} />
      </div>
      <ErrorNote error={error} />
      {result ? (
        <div role="status" className="flex items-start gap-2 rounded-md border border-success/30 bg-success/10 px-3 py-2 text-sm">
          <FileUp className="mt-0.5 size-4 shrink-0 text-success" />
          <span>
            Accepted {result.name ? <strong>{result.name}</strong> : "the plugin"}
            {result.version ? ` version ${result.version}` : ""}.
          </span>
          <Button variant="link" size="sm" className="ml-auto h-auto p-0" onClick={() => setResult(null)}>
            Dismiss
          </Button>
        </div>
      ) : null}
    </div>
  );
}
