/**
 * Times as people read them. The server renders each as
 * `<time class="when" datetime="ISO" data-utc="2026-12-08 02:47 UTC">…</time>`; here its text
 * becomes relative ("in 23 hours", "3 minutes ago") and its title the viewer's local time plus
 * the exact UTC one, shown on hover and, for keyboard users, on focus (see app.css).
 */

const UNITS = /** @type {const} */ ([
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
]);

/**
 * @param {Date} moment
 * @param {Date} now
 * @param {string | undefined} [locale]
 * @returns {string} e.g. "in 23 hours", "3 minutes ago", "just now"
 */
export function relativeTime(moment, now, locale) {
  const seconds = (moment.getTime() - now.getTime()) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return Math.abs(seconds) < 45 ? "just now" : format.format(Math.trunc(seconds), "second");
}

/**
 * @param {Date} moment
 * @param {string | undefined} [locale]
 * @param {string | undefined} [timeZone]
 * @returns {string} e.g. "Tue, 8 Dec 2026, 03:47 CET"
 */
export function localTime(moment, locale, timeZone) {
  return new Intl.DateTimeFormat(locale, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short", timeZone,
  }).format(moment);
}

/**
 * @param {ParentNode} root
 * @param {Date} [now]
 */
export function localizeTimes(root, now = new Date()) {
  for (const element of root.querySelectorAll("time.when[datetime]")) {
    const moment = new Date(element.getAttribute("datetime") ?? "");
    if (Number.isNaN(moment.getTime())) continue;
    const exact = `${localTime(moment)} (your time) · ${element.getAttribute("data-utc") ?? ""}`;
    element.textContent = relativeTime(moment, now);
    element.setAttribute("title", exact);
    element.setAttribute("aria-label", `${element.textContent}, ${exact}`);
  }
}
