import { forwardRef, useId } from "react";
import { cn } from "../../lib/cn.js";

const FIELD =
  "flex w-full rounded-md border border-input bg-background px-3 text-sm shadow-sm transition-colors placeholder:text-muted-foreground " +
  "focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring disabled:cursor-not-allowed disabled:opacity-50";

export const Input = forwardRef(function Input({ className, ...props }, ref) {
  return <input ref={ref} className={cn(FIELD, "h-9 py-1", className)} {...props} />;
});

export const Textarea = forwardRef(function Textarea({ className, ...props }, ref) {
  return <textarea ref={ref} className={cn(FIELD, "min-h-[72px] py-2", className)} {...props} />;
});

/** A native select: keyboard and screen readers work everywhere. */
export const Select = forwardRef(function Select({ className, children, ...props }, ref) {
  return (
    <select ref={ref} className={cn(FIELD, "h-9 py-1 pr-8", className)} {...props}>
      {children}
    </select>
  );
});

export function Label({ className, ...props }) {
  return <label className={cn("text-sm font-medium leading-none", className)} {...props} />;
}

/** A labelled form control with an optional hint; the label points at the control. */
export function Field({ label, hint, children, className }) {
  const id = useId();
  const control = typeof children === "function" ? children(id) : children;
  return (
    <div className={cn("grid min-w-0 gap-1.5", className)}>
      <Label htmlFor={id}>{label}</Label>
      {control}
      {hint ? <p className="text-xs text-muted-foreground">{hint}</p> : null}
    </div>
  );
}
