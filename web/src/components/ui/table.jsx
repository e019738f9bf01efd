import { cn } from "../../lib/cn.js";

/** Keeps a row's actions in view while the rest of a wide table scrolls sideways. */
export const STICKY_END = "sticky right-0 z-[1] bg-card max-sm:shadow-[-6px_0_6px_-6px_rgba(0,0,0,0.25)]";

/** A table that scrolls sideways inside its card on narrow screens. */
export function Table({ className, wrapperClassName, minWidth = 720, children }) {
  return (
    <div className={cn("w-full overflow-x-auto", wrapperClassName)}>
      <table className={cn("w-full caption-bottom text-sm", className)} style={{ minWidth }}>
        {children}
      </table>
    </div>
  );
}

export function Th({ className, ...props }) {
  return (
    <th
      className={cn(
        "h-10 whitespace-nowrap border-b px-3 text-left align-middle text-xs font-medium uppercase tracking-wide text-muted-foreground first:pl-4 last:pr-4 sm:first:pl-5 sm:last:pr-5",
        className,
      )}
      {...props}
    />
  );
}

export function Td({ className, ...props }) {
  return <td className={cn("whitespace-nowrap border-b px-3 py-2.5 align-middle first:pl-4 last:pr-4 sm:first:pl-5 sm:last:pr-5", className)} {...props} />;
}

export function Tr({ className, onClick, ...props }) {
  const clickable = Boolean(onClick);
  return (
    <tr
      className={cn("transition-colors [&:last-child>td]:border-b-0", clickable && "cursor-pointer hover:bg-muted/60", className)}
      onClick={onClick}
      tabIndex={clickable ? 0 : undefined}
      onKeyDown={
        clickable
          ? (e) => {
              if (e.key === "Enter" || e.key === " ") {
                e.preventDefault();
                onClick(e);
              }
            }
          : undefined
      }
      {...props}
    />
  );
}
