import type { HTMLAttributes } from "react";
import { cn } from "../../lib/cn.ts";

const TONES: Record<Tone, string> = {
  neutral: "bg-secondary text-secondary-foreground border-transparent",
  success: "bg-success/10 text-success border-success/25",
  warning: "bg-warning/10 text-warning border-warning/25",
  danger: "bg-destructive/10 text-destructive border-destructive/25",
  primary: "bg-primary/10 text-primary border-primary/25",
  outline: "border-border text-muted-foreground",
};

/** A badge's colour: what the tag says about its subject. */
export type Tone = "neutral" | "success" | "warning" | "danger" | "primary" | "outline";

export function Badge({ tone = "neutral", className, ...props }: HTMLAttributes<HTMLSpanElement> & { tone?: Tone }) {
  return (
    <span
      className={cn(
        "inline-flex items-center gap-1 whitespace-nowrap rounded-full border px-2 py-0.5 text-xs font-medium",
        TONES[tone],
        className,
      )}
      {...props}
    />
  );
}
