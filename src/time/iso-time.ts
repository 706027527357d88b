// Date.prototype.toISOString() without its side effect on memory: V8 computes
// the local time zone's display name on every toString-family call, ISO
// included (ToDateString in V8's date.cc), and the first one loads ICU's time
// zone names (metaZones, zone/*.res, about 0.5 MB of the node binary's pages
// that then stay resident, plus ICU code). The UTC getters need no time zone.
// Same output as toISOString for years 0-9999; anything else goes to it.

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/** `new Date(ms).toISOString()`, e.g. 2026-11-24T23:33:16.709Z. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return d.toISOString(); // NaN throws there, as before
  const y = year < 1000 ? `000${year}`.slice(-4) : `${year}`;
  return `${y}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}T${pad2(d.getUTCHours())}:${pad2(
    d.getUTCMinutes(),
  )}:${pad2(d.getUTCSeconds())}.${pad3(d.getUTCMilliseconds())}Z`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `new Date(ms).toUTCString()` (HTTP's IMF-fixdate, e.g. Sat, 28 Nov 2026 02:08:12 GMT)
 * for years 1000-9999, without toUTCString's time zone name lookup (see isoTime).
 * Node's HTTP server calls toUTCString for the Date header of every response.
 */
export function httpDate(ms: number): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  if (!(year >= 1000 && year <= 9999)) return d.toUTCString();
  return `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${year} ${pad2(
    d.getUTCHours(),
  )}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`;
}
