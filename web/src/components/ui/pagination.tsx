import type { ReactNode } from "react";
import { ChevronLeft, ChevronRight } from "lucide-react";
import { formatNumber } from "../../lib/format.ts";
import { pageCount } from "../../lib/query.ts";
import { Button } from "./button.tsx";

/**
 * "1–50 of 1,234" with previous/next; the server does the paging. When the
 * server stopped counting (`totalIsLowerBound`), `total` is a floor: "of more
 * than 10,000", and next stays open while pages are full.
 */
interface PaginationProps {
  page: number;
  pageSize: number;
  total: number;
  totalIsLowerBound?: boolean;
  onPage: (page: number) => void;
  children?: ReactNode;
}

export function Pagination({ page, pageSize, total, totalIsLowerBound = false, onPage, children }: PaginationProps) {
  const pages = pageCount(total, pageSize);
  const first = total === 0 ? 0 : (page - 1) * pageSize + 1;
  const last = Math.min(total, page * pageSize);
  const of = totalIsLowerBound ? "more than " : "";
  const lastPage = !totalIsLowerBound && page >= pages;
  return (
    <div className="flex flex-wrap items-center justify-between gap-3 border-t px-4 py-3 text-sm sm:px-5">
      <span className="text-muted-foreground" data-testid="page-summary">
        {formatNumber(first)}–{formatNumber(last)} of {of}
        {formatNumber(total)}
      </span>
      <div className="flex items-center gap-2">
        {children}
        <span className="whitespace-nowrap text-muted-foreground">
          Page {formatNumber(page)} of {of}
          {formatNumber(pages)}
        </span>
        <Button variant="outline" size="icon" aria-label="Previous page" disabled={page <= 1} onClick={() => onPage(page - 1)}>
          <ChevronLeft />
        </Button>
        <Button variant="outline" size="icon" aria-label="Next page" disabled={lastPage} onClick={() => onPage(page + 1)}>
          <ChevronRight />
        </Button>
      </div>
    </div>
  );
}
