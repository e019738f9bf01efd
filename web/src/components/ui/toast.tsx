// Short notices after an action ("Health check: healthy"); errors stay
// until dismissed, others fade after a few seconds.
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";
import { CheckCircle2, AlertCircle, X } from "lucide-react";
import { cn } from "../../lib/cn.ts";

/** Shows `message`; an "error" stays until dismissed. */
export type Toast = (message: ReactNode, options?: { tone?: "success" | "error" }) => void;

interface Shown {
  id: number;
  message: ReactNode;
  tone: "success" | "error";
}

const ToastContext = createContext<Toast>(() => {});
let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Shown[]>([]);
  const dismiss = useCallback((id: number) => setToasts((t) => t.filter((x) => x.id !== id)), []);
  const toast = useCallback<Toast>(
    (message, { tone = "success" } = {}) => {
      const id = nextId++;
      const shown: Shown = { id, message, tone };
      setToasts((t) => [...t.slice(-3), shown]);
      if (tone !== "error") setTimeout(() => dismiss(id), 5000);
    },
    [dismiss],
  );
  return (
    <ToastContext.Provider value={toast}>
      {children}
      <div className="pointer-events-none fixed inset-x-3 bottom-3 z-[60] flex flex-col items-end gap-2 sm:left-auto sm:right-4 sm:w-96" aria-live="polite">
        {toasts.map((t) => (
          <div
            key={t.id}
            role={t.tone === "error" ? "alert" : "status"}
            className={cn(
              "pointer-events-auto flex w-full items-start gap-2 rounded-lg border bg-card p-3 text-sm shadow-lg",
              t.tone === "error" && "border-destructive/40",
            )}
          >
            {t.tone === "error" ? (
              <AlertCircle className="mt-0.5 size-4 shrink-0 text-destructive" />
            ) : (
              <CheckCircle2 className="mt-0.5 size-4 shrink-0 text-success" />
            )}
            <span className="flex-1">{t.message}</span>
            <button type="button" aria-label="Dismiss" className="text-muted-foreground hover:text-foreground" onClick={() => dismiss(t.id)}>
              <X className="size-4" />
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): Toast {
  return useContext(ToastContext);
}
