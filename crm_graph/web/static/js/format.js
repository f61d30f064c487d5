// Numbers, money and dates: money in its own currency (the API gives every amount as
// `Money { amount currencyCode }`), instants in the store's timezone (the API's `store`); the browser's
// language picks separators and month names.

let store = { currencyCode: "USD", timezone: "UTC", name: "" };
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const dayFormat = new Intl.DateTimeFormat(undefined, { timeZone: "UTC", dateStyle: "medium" });
const moneyFormats = new Map();
let instantFormat = null;
let instantDayFormat = null;

export function setStore(value) {
  store = value;
  instantFormat = new Intl.DateTimeFormat(undefined, { timeZone: value.timezone, dateStyle: "medium", timeStyle: "short" });
  instantDayFormat = new Intl.DateTimeFormat(undefined, { timeZone: value.timezone, dateStyle: "medium" });
}

/** The formatter of a currency (ISO 4217 code); a code the browser does not know shows as a number and the code. */
function moneyFormat(code) {
  if (!moneyFormats.has(code)) {
    let format;
    try {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency: code });
    } catch {
      format = { format: (n) => `${decimal.format(n)} ${code}` };
    }
    moneyFormats.set(code, format);
  }
  return moneyFormats.get(code);
}

export const currentStore = () => store;
export const num = (n) => (n === null || n === undefined ? "–" : integer.format(n));
export const dec = (n) => (n === null || n === undefined ? "–" : decimal.format(Number(n)));
export const pct = (n) => (n === null || n === undefined ? "–" : percent.format(n));
/** A Money ({amount, currencyCode}) in its currency; null (undefined money) shows as "–". */
export const cur = (m) => (m === null || m === undefined ? "–" : moneyFormat(m.currencyCode).format(Number(m.amount)));
/** The amount of a Money as a number (null stays null): for charts and comparisons. */
export const amount = (m) => (m === null || m === undefined ? null : Number(m.amount));

/** A local day of the store ("2026-11-05"), shown as a date (no timezone shift: it already is local). */
export function day(text) {
  if (!text) return "–";
  const [y, m, d] = text.split("-").map(Number);
  return dayFormat.format(new Date(Date.UTC(y, m - 1, d)));
}

/** An instant (ISO DateTime) in the store's timezone. */
export function instant(text) {
  if (!text) return "–";
  return (instantFormat || dayFormat).format(new Date(text));
}

/** The store's local day of an instant. */
export function instantDay(text) {
  if (!text) return "–";
  return (instantDayFormat || dayFormat).format(new Date(text));
}

/** "Computed 5 Dec 2026, 08:00 (stored)" for a Freshness. */
export function freshness(f) {
  if (!f) return "";
  const source = { STORED: "precomputed", BROUGHT_FORWARD: "precomputed, brought forward", LIVE: "live" }[f.source] || f.source;
  return `Computed ${instant(f.computedAt)} · ${source}${f.cached ? " · cached" : ""}`;
}

/** A signed change with an arrow: "▲ 12 (+3.4%)". */
export function change(value, relative) {
  if (value === null || value === undefined) return "–";
  const arrow = value > 0 ? "▲" : value < 0 ? "▼" : "■";
  const rel = relative === null || relative === undefined ? "" : ` (${relative > 0 ? "+" : ""}${percent.format(relative)})`;
  return `${arrow} ${value > 0 ? "+" : ""}${integer.format(value)}${rel}`;
}

export const titleCase = (text) => (text || "").toLowerCase().replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
