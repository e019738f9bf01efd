// An upstream key's live health in words: the last result, the score and
// what it means, latency, when it was last checked, and a cooldown that
// counts down by the second; and the key's limits and expiry.
import { useEffect, useState } from "react";
import { Badge } from "../components/ui/badge.tsx";
import { describeLimits, KEY_LIMITS } from "../lib/limits.ts";
import { formatDateTime, formatDuration, healthBadge, healthScore, relativeTime } from "../lib/format.ts";
import type { Schema } from "../lib/client.ts";

type KeyRow = Schema<"UpstreamKeyView">;

export function HealthBadge({ status }: { status: string | null | undefined }) {
  const { label, tone } = healthBadge(status);
  return (
    <Badge tone={tone} data-testid="health-badge">
      <span className="size-1.5 rounded-full bg-current" aria-hidden="true" />
      {label}
    </Badge>
  );
}

/** Seconds left of a cooldown the API reported `seconds` ago-ish, ticking down once a second. */
export function useCountdown(seconds: number | null | undefined): number {
  const [left, setLeft] = useState(seconds ?? 0);
  useEffect(() => {
    if (!seconds) {
      setLeft(0);
      return undefined;
    }
    const until = Date.now() + seconds * 1000;
    setLeft(seconds);
    const timer = setInterval(() => {
      const now = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      setLeft(now);
      if (!now) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [seconds]);
  return left;
}

/** The score in words: what the percentage means, so "Healthy" beside 57% makes sense. */
export function scoreWords(h: Schema<"KeyHealthView"> | null | undefined): string | null {
  if (!h || h.score === null || h.score === undefined) return null;
  const pct = healthScore(h.score).label;
  const failing = h.consecutive_failures ? `, ${h.consecutive_failures} failed in a row` : "";
  return `Score ${pct}: the share of recent attempts that succeeded, the newest counting most${failing}. The status is the last result.`;
}

/** Live health: status, score, latency and whether the scheduler uses the key now. */
export function KeyHealth({ keyRow }: { keyRow: KeyRow }) {
  const h = keyRow.health;
  const score = healthScore(h?.score);
  const cooldown = useCountdown(h?.cooldown_seconds);
  const rotation = cooldown ? `cooling down ${cooldown}s` : h?.in_rotation === false ? "out of rotation" : null;
  return (
    <div className="grid gap-1">
      <div className="flex flex-wrap items-center gap-1 max-sm:justify-end">
        <HealthBadge status={h?.status ?? keyRow.health_status} />
        {h ? (
          <Badge tone={score.tone === "danger" ? "danger" : "outline"} data-testid="health-score">
            score {score.label}
          </Badge>
        ) : null}
        {rotation ? (
          <Badge tone={cooldown ? "warning" : "danger"} data-testid="health-rotation">
            {rotation}
          </Badge>
        ) : null}
      </div>
      {h ? (
        <p className="text-xs text-muted-foreground" data-testid="health-explained">
          {scoreWords(h)}
        </p>
      ) : null}
      <div className="text-xs text-muted-foreground" data-testid="health-checked">
        {h?.latency_ms !== null && h?.latency_ms !== undefined ? `${formatDuration(h.latency_ms)} latency · ` : ""}
        {h?.last_checked ? (
          <time dateTime={h.last_checked} title={formatDateTime(h.last_checked)}>
            checked {relativeTime(h.last_checked)}
          </time>
        ) : (
          "never checked"
        )}
      </div>
      {h?.last_error && (h.status !== "healthy" || h.consecutive_failures) ? (
        <div className="line-clamp-2 text-xs text-muted-foreground">{h.last_error}</div>
      ) : null}
    </div>
  );
}

/** Limits and expiry of an upstream key. */
export function KeyTerms({ keyRow }: { keyRow: KeyRow }) {
  const limits = describeLimits(keyRow.limits, KEY_LIMITS);
  const expired = keyRow.expires_at && new Date(keyRow.expires_at) <= new Date();
  return (
    <div className="grid gap-1">
      {limits.length ? (
        <div className="flex flex-wrap gap-1 max-sm:justify-end">
          {limits.map((l) => (
            <Badge key={l} tone="outline">
              {l}
            </Badge>
          ))}
        </div>
      ) : (
        <span className="text-muted-foreground">unlimited</span>
      )}
      {keyRow.expires_at ? (
        expired ? (
          <Badge tone="danger" className="w-fit max-sm:justify-self-end">
            expired
          </Badge>
        ) : (
          <span className="text-muted-foreground">expires {formatDateTime(keyRow.expires_at)}</span>
        )
      ) : null}
    </div>
  );
}
