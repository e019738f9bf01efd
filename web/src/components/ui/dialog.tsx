// Modal dialogs on Radix: focus is trapped and restored, Escape closes,
// and the title names the dialog for screen readers.
import * as DialogPrimitive from "@radix-ui/react-dialog";
import * as AlertPrimitive from "@radix-ui/react-alert-dialog";
import { X } from "lucide-react";
import { useCallback, useRef, useState, type FormEvent, type MouseEvent, type ReactNode } from "react";
import { cn } from "../../lib/cn.ts";
import { describeError } from "../../lib/api.ts";
import { Button } from "./button.tsx";
import { ErrorNote, Spinner } from "./states.tsx";

const OVERLAY = "fixed inset-0 z-50 bg-black/50 backdrop-blur-[1px] data-[state=open]:animate-in";
const CONTENT =
  "fixed left-1/2 top-1/2 z-50 grid max-h-[calc(100dvh-2rem)] w-[calc(100vw-1.5rem)] -translate-x-1/2 -translate-y-1/2 gap-4 overflow-y-auto rounded-lg border bg-card p-5 text-card-foreground shadow-xl focus:outline-none sm:p-6";

/**
 * Gives focus back to whatever had it when the dialog opened. Radix returns
 * focus only to a Dialog.Trigger, and these dialogs are opened from state,
 * so without this focus would fall to <body> on close.
 */
function useReturnFocus(open: boolean): (event: Event) => void {
  const target = useRef<Element | null>(null);
  const wasOpen = useRef(false);
  if (open && !wasOpen.current && typeof document !== "undefined") target.current = document.activeElement;
  wasOpen.current = open;
  return useCallback((event: Event) => {
    const el = target.current;
    if (el instanceof HTMLElement && el.isConnected && el !== document.body) {
      event.preventDefault();
      el.focus();
    }
  }, []);
}

interface DialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  children?: ReactNode;
  footer?: ReactNode;
  wide?: boolean;
}

export function Dialog({ open, onOpenChange, title, description, children, footer, wide = false }: DialogProps) {
  const returnFocus = useReturnFocus(open);
  return (
    <DialogPrimitive.Root open={open} onOpenChange={onOpenChange}>
      <DialogPrimitive.Portal>
        <DialogPrimitive.Overlay className={OVERLAY} />
        <DialogPrimitive.Content className={cn(CONTENT, wide ? "max-w-3xl" : "max-w-lg")} onCloseAutoFocus={returnFocus}>
          <div className="pr-8">
            <DialogPrimitive.Title className="text-lg font-semibold leading-tight">{title}</DialogPrimitive.Title>
            {description ? (
              <DialogPrimitive.Description className="mt-1 text-sm text-muted-foreground">{description}</DialogPrimitive.Description>
            ) : (
              <DialogPrimitive.Description className="sr-only">{title}</DialogPrimitive.Description>
            )}
          </div>
          <div className="min-w-0">{children}</div>
          {footer ? <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">{footer}</div> : null}
          <DialogPrimitive.Close
            className="absolute right-3 top-3 rounded-md p-1.5 text-muted-foreground hover:bg-accent hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
            aria-label="Close"
          >
            <X className="size-4" />
          </DialogPrimitive.Close>
        </DialogPrimitive.Content>
      </DialogPrimitive.Portal>
    </DialogPrimitive.Root>
  );
}

/**
 * A dialog holding a form: Enter submits, the submit button shows progress,
 * and an API error stays in the dialog in words.
 */
interface FormDialogProps extends Omit<DialogProps, "footer"> {
  submitLabel?: string;
  /** Resolves when done; a throw shows its words in the dialog. */
  onSubmit: (form: FormData) => Promise<void> | void;
}

export function FormDialog({ open, onOpenChange, title, description, submitLabel = "Save", onSubmit, children, wide }: FormDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const formId = `form-${title.replace(/\W+/g, "-").toLowerCase()}`;
  const change = (next: boolean) => {
    if (!next) setError(null);
    onOpenChange(next);
  };
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(new FormData(event.currentTarget));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={open}
      onOpenChange={change}
      title={title}
      description={description}
      wide={wide}
      footer={
        <>
          <Button variant="outline" onClick={() => change(false)}>
            Cancel
          </Button>
          <Button type="submit" form={formId} disabled={busy}>
            {busy ? <Spinner /> : null}
            {submitLabel}
          </Button>
        </>
      }
    >
      <form id={formId} onSubmit={submit} className="grid gap-4" noValidate>
        {children}
        <ErrorNote error={error} />
      </form>
    </Dialog>
  );
}

/** Asks before a destructive action; the action's error shows in the dialog. */
interface ConfirmDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  children?: ReactNode;
  confirmLabel?: string;
  onConfirm: () => Promise<unknown> | void;
}

export function ConfirmDialog({ open, onOpenChange, title, children, confirmLabel = "Delete", onConfirm }: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const returnFocus = useReturnFocus(open);
  const change = (next: boolean) => {
    if (!next) setError(null);
    onOpenChange(next);
  };
  const confirm = async (event: MouseEvent<HTMLButtonElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      change(false);
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AlertPrimitive.Root open={open} onOpenChange={change}>
      <AlertPrimitive.Portal>
        <AlertPrimitive.Overlay className={OVERLAY} />
        <AlertPrimitive.Content className={cn(CONTENT, "max-w-md")} onCloseAutoFocus={returnFocus}>
          <AlertPrimitive.Title className="text-lg font-semibold">{title}</AlertPrimitive.Title>
          <AlertPrimitive.Description className="text-sm text-muted-foreground">{children}</AlertPrimitive.Description>
          <ErrorNote error={error} />
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <AlertPrimitive.Cancel asChild>
              <Button variant="outline">Cancel</Button>
            </AlertPrimitive.Cancel>
            <AlertPrimitive.Action asChild>
              <Button variant="destructive" onClick={confirm} disabled={busy}>
                {busy ? <Spinner /> : null}
                {confirmLabel}
              </Button>
            </AlertPrimitive.Action>
          </div>
        </AlertPrimitive.Content>
      </AlertPrimitive.Portal>
    </AlertPrimitive.Root>
  );
}
