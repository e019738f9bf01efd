import { AlertCircle, Inbox, Loader2 } from "lucide-react";
import type { ReactNode } from "react";
import { cn } from "../../lib/cn.ts";

export function Spinner({ className }: { className?: string }) {
  return <Loader2 className={cn("size-4 animate-spin", className)} aria-hidden="true" />;
}

export function Loading({ label = "Loading…", className }: { label?: string; className?: string }) {
  return (
    <div role="status" className={cn("flex items-center justify-center gap-2 py-12 text-sm text-muted-foreground", className)}>
      <Spinner /> {label}
    </div>
  );
}

interface EmptyProps {
  title: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
  className?: string;
}

export function Empty({ title, children, action, className }: EmptyProps) {
  return (
    <div className={cn("flex flex-col items-center justify-center gap-2 px-4 py-12 text-center", className)}>
      <Inbox className="size-8 text-muted-foreground/60" aria-hidden="true" />
      <p className="font-medium">{title}</p>
      {children ? <p className="max-w-sm text-sm text-muted-foreground">{children}</p> : null}
      {action}
    </div>
  );
}

/** An API error in words, with an optional retry. */
interface ErrorNoteProps {
  error: ReactNode;
  onRetry?: () => void;
  className?: string;
}

export function ErrorNote({ error, onRetry, className }: ErrorNoteProps) {
  if (!error) return null;
  return (
    <div
      role="alert"
      className={cn(
        "flex items-start gap-2 rounded-md border border-destructive/30 bg-destructive/10 px-3 py-2 text-sm text-destructive",
        className,
      )}
    >
      <AlertCircle className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
      <span className="flex-1">{error}</span>
      {onRetry ? (
        <button type="button" className="font-medium underline underline-offset-2" onClick={onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}
