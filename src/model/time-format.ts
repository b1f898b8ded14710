// Time as CubeFS routes print it. Formatting is for views only; the model stores integers.

/** Go's zero time.Time as encoding/json prints it (ReportTime before the first heartbeat). */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * "YYYY-MM-DD HH:MM:SS" (Go layout "2006-01-02 15:04:05"): user create_time and the cluster
 * CreateTime (spec 1.5). CubeFS prints the server's local time; the caller passes that zone's
 * offset from UTC in seconds (0 = UTC, as in the wire samples).
 */
export function formatDateTime(unixSec: number, utcOffsetSec: number): string {
  const d = new Date((unixSec + utcOffsetSec) * 1000);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

/**
 * A time.Time as Go's encoding/json prints it (RFC 3339 with the fraction's trailing zeros
 * dropped), in UTC: "2026-11-25T18:42:06.869Z", "2026-11-25T18:42:06Z". 0 → Go's zero time.
 */
export function formatGoTime(unixMs: number): string {
  if (unixMs === 0) return GO_ZERO_TIME;
  const iso = new Date(unixMs).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const [whole, fraction] = iso.slice(0, -1).split('.');
  const trimmed = (fraction ?? '').replace(/0+$/, '');
  return trimmed === '' ? `${whole}Z` : `${whole}.${trimmed}Z`;
}

/** How views print local times (the API layer's config). */
export interface ViewOptions {
  /** Offset of the zone CubeFS would print local times in, seconds east of UTC. */
  readonly utcOffsetSec: number;
}
export const UTC_VIEW: ViewOptions = Object.freeze({ utcOffsetSec: 0 });
