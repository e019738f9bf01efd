// Tables that are tables from the `sm` breakpoint up and stacked rows on a
// phone: each row becomes a block with its primary cell (the name) and its
// actions on the first line, and every labelled cell below as
// "label … value". Nothing scrolls sideways. The phone layout is plain CSS
// in src/index.css (`.rtable`), keyed on the classes and data-label set here.
import type { CSSProperties, HTMLAttributes, ReactNode, TdHTMLAttributes, ThHTMLAttributes } from "react";
import { cn } from "../../lib/cn.ts";

/** Keeps a row's actions in view while the rest of a wide table scrolls sideways (tablets). */
export const STICKY_END = "sticky right-0 z-[1] bg-card";

/**
 * `minWidth` applies from `sm` up, where a table wider than its card
 * scrolls inside it; below `sm` the rows stack and fit any width.
 */
interface TableProps {
  className?: string;
  wrapperClassName?: string;
  minWidth?: number;
  children?: ReactNode;
}

export function Table({ className, wrapperClassName, minWidth = 720, children }: TableProps) {
  return (
    <div className={cn("rtable w-full sm:overflow-x-auto", wrapperClassName)} data-table>
      <table
        className={cn("w-full caption-bottom text-sm sm:min-w-[var(--table-min)]", className)}
        style={{ "--table-min": `${minWidth}px` } as CSSProperties}
      >
        {children}
      </table>
    </div>
  );
}

export function Th({ className, ...props }: ThHTMLAttributes<HTMLTableCellElement>) {
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

/**
 * A cell. On a phone: `primary` is the row's title (first line, left),
 * `actions` sits beside it on the right, a `label`led cell is a
 * "label … value" line, `phone={false}` hides the cell, and any other
 * cell spans the row's width.
 */
interface TdProps extends TdHTMLAttributes<HTMLTableCellElement> {
  label?: string;
  primary?: boolean;
  actions?: boolean;
  phone?: boolean;
}

export function Td({ className, label, primary = false, actions = false, phone = true, children, ...props }: TdProps) {
  return (
    <td
      className={cn(
        // On a phone, `.rtable td` outweighs these single-class utilities.
        "whitespace-nowrap border-b px-3 py-2.5 align-middle sm:first:pl-5 sm:last:pr-5",
        primary && "cell-primary",
        actions && cn("cell-actions", STICKY_END),
        !phone && "cell-phone-hidden",
        className,
      )}
      data-label={label}
      {...props}
    >
      {label ? <div className="cell-value">{children}</div> : children}
    </td>
  );
}

/** A row; with `onClick` it is also reached and opened by keyboard (Enter, Space). */
export function Tr({ className, onClick, ...props }: Omit<HTMLAttributes<HTMLTableRowElement>, "onClick"> & { onClick?: () => void }) {
  return (
    <tr
      className={cn("transition-colors [&:last-child>td]:border-b-0", onClick && "cursor-pointer hover:bg-muted/60", className)}
      onClick={onClick ? () => onClick() : undefined}
      tabIndex={onClick ? 0 : undefined}
      onKeyDown={
        onClick
          ? (e) => {
              if (e.key === "Enter" || e.key === " ") {
                e.preventDefault();
                onClick();
              }
            }
          : undefined
      }
      {...props}
    />
  );
}
