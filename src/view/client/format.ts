/** 48h, 90s, 1h 30min, 250ms. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  const days = Math.floor(rest / 86_400);
  if (days && rest % 86_400 === 0) return `${days * 24}h`;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  if (hours) parts.push(`${hours}h`);
  if (minutes) parts.push(`${minutes}min`);
  if (seconds) parts.push(`${seconds}s`);
  return parts.join(' ');
}

/** Time left as H:MM:SS, rounded up to the second; 0:00:00 once due. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${hours}:${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
}

/** An absolute time in UTC, to the second: 2026-01-05 09:00:00Z. */
export function formatTime(at: number): string {
  if (!Number.isFinite(at)) return '—';
  return new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** A state value as one line: `open`, `refunding.requesting`, `{a: x, b: y}`. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1) {
      const [key, sub] = entries[0]!;
      const rest = formatValue(sub);
      return rest ? `${key}.${rest}` : key;
    }
    return `{${entries.map(([key, sub]) => `${key}: ${formatValue(sub) || key}`).join(', ')}}`;
  }
  return value === null || value === undefined ? '' : String(value);
}
