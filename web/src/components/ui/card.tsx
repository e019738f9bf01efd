import type { HTMLAttributes, ReactNode } from "react";
import { cn } from "../../lib/cn.ts";

export function Card({ className, ...props }: HTMLAttributes<HTMLDivElement>) {
  return <div className={cn("min-w-0 rounded-lg border bg-card text-card-foreground shadow-sm", className)} {...props} />;
}

interface HeaderProps {
  className?: string;
  title?: ReactNode;
  description?: ReactNode;
  action?: ReactNode;
  children?: ReactNode;
}

export function CardHeader({ className, title, description, action, children }: HeaderProps) {
  return (
    <div className={cn("flex flex-wrap items-start justify-between gap-2 p-4 pb-2 sm:p-5 sm:pb-2", className)}>
      <div className="min-w-0">
        {title ? <h3 className="font-semibold leading-tight tracking-tight">{title}</h3> : null}
        {description ? <p className="mt-1 text-sm text-muted-foreground">{description}</p> : null}
        {children}
      </div>
      {action}
    </div>
  );
}

export function CardBody({ className, ...props }: HTMLAttributes<HTMLDivElement>) {
  return <div className={cn("p-4 pt-2 sm:p-5 sm:pt-2", className)} {...props} />;
}
