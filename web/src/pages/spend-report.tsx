// This month's spend per user and per provider (issue 19, item 3), below
// the team cards: the same report (`GET /api/stats/budgets`) the cards
// read, so every figure on the page is of one moment. A user's monthly
// cost budget, when set, stands beside its spend.
import { Card, CardBody, CardHeader } from "../components/ui/card.tsx";
import { Table, Td, Th, Tr } from "../components/ui/table.tsx";
import { budgetLine } from "../lib/budget.ts";
import { formatCost, formatNanos, formatNumber, formatTokens } from "../lib/format.ts";
import type { Schema } from "../lib/client.ts";

type Row = Schema<"BudgetedRow"> | Schema<"ProviderRow">;

/** A user's spend beside its monthly cost budget, in words. */
export function userBudgetWords(row: Partial<Pick<Schema<"BudgetedRow">, "budget">> | null | undefined): string {
  const line = budgetLine(row?.budget, "user_cost_per_month");
  return line ? `${formatNanos(line.used)} of ${formatNanos(line.budget)}` : "no monthly budget";
}

function SpendCells({ spend }: { spend: Schema<"Spend"> | null | undefined }) {
  return (
    <>
      <Td label="Requests">{formatNumber(spend?.requests ?? 0)}</Td>
      <Td label="Tokens">{formatTokens(spend?.tokens ?? 0)}</Td>
      <Td label="Spend">{formatCost(spend?.cost_usd ?? 0)}</Td>
    </>
  );
}

function SpendTable({ caption, rows, budget = false }: { caption: string; rows: Row[]; budget?: boolean }) {
  return (
    <section aria-label={caption} className="min-w-0">
      <h4 className="mb-2 text-sm font-medium">{caption}</h4>
      <Table minWidth={0}>
        <thead>
          <tr>
            <Th>Name</Th>
            <Th>Requests</Th>
            <Th>Tokens</Th>
            <Th>Spend</Th>
            {budget ? <Th>Monthly budget</Th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <Tr key={row.id}>
              <Td primary>{row.name}</Td>
              <SpendCells spend={row.spend} />
              {budget && "budget" in row ? <Td label="Monthly budget">{userBudgetWords(row)}</Td> : null}
            </Tr>
          ))}
        </tbody>
      </Table>
    </section>
  );
}

/** Spend per user and per provider for the report's month; nothing without rows. */
export function SpendReport({ report }: { report: Schema<"BudgetReport"> | null | undefined }) {
  const users = report?.users ?? [];
  const providers = report?.providers ?? [];
  if (!report || (!users.length && !providers.length)) return null;
  return (
    <Card className="mt-4">
      <CardHeader title={`Spend in ${report.period}`} description="Per user (the keys each owns) and per provider, from the request log." />
      <CardBody className="grid gap-6">
        {users.length ? <SpendTable caption="By user" rows={users} budget /> : null}
        {providers.length ? <SpendTable caption="By provider" rows={providers} /> : null}
      </CardBody>
    </Card>
  );
}
