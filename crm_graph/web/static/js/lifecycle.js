// Lifecycle and marketing: the predicted-CLV model with the P(alive) and predicted-value distributions,
// lifecycle stages over time, the cohort retention triangle, acquisition channels with CAC, and (in a
// second, lazy request, since it can be slow on a big store) the products bought together.

import { gql } from "./api.js";
import { fill, h, panel, empty, loading, toggle, dataTable } from "./dom.js";
import { barChart } from "./charts.js";
import { num, pct, cur, dec, instant, freshness, titleCase, currentStore } from "./format.js";
import { failed, rangeVariables, setParams, showRange, useStore } from "./main.js";

const FRESH = "{ computedAt source cached }";
const MONEY = "{ amount currencyCode }";
/** Lower bounds of the P(alive) bands; a band holds the customers from its bound to the next. */
export const P_ALIVE_BOUNDS = [0, 0.2, 0.4, 0.6, 0.8];
/** Lower bounds of the predicted 12-month value bands, in the store's currency. */
export const VALUE_BOUNDS = [0, 50, 100, 250, 500, 1000];

/** An aliased count of the customers whose `field` is at least `literal` (a GraphQL literal). */
const atLeast = (name, field, literal) => `${name}: customers(filter: { ${field}: ${literal} }, first: 1) { totalCount }`;
export const QUERY = `
query LifecycleScreen($range: DateRange, $preset: DatePreset, $granularity: Granularity!) {
  store { name timezone currencyCode customerCount }
  clvModel { status reason fittedAt cutoff customers repeatCustomers horizonDays freshness ${FRESH} }
  ${P_ALIVE_BOUNDS.map((b, i) => atLeast(`pAlive${i}`, "pAliveMin", String(b))).join("\n  ")}
  ${VALUE_BOUNDS.map((b, i) => atLeast(`value${i}`, "predictedValueMin", `"${b}"`)).join("\n  ")}
  lifecycleStages(range: $range, preset: $preset, granularity: $granularity) {
    label firstDay lastDay new active atRisk churned reactivated buyers freshness ${FRESH}
  }
  cohorts(range: $range, preset: $preset) { month label size cells { monthsSince customers share } freshness ${FRESH} }
  acquisitionChannels(range: $range, preset: $preset) {
    channel newCustomers revenueInRange ${MONEY} repeatRate averageLtv ${MONEY} spend ${MONEY} cac ${MONEY} ltvToCac roi freshness ${FRESH}
  }
  purchaseRhythm(range: $range, preset: $preset) { averageDaysBetweenOrders medianDaysBetweenOrders repeatBuyers averageLifetimeDays freshness ${FRESH} }
}`;
export const PAIRS_QUERY = `
query ProductPairs($range: DateRange, $preset: DatePreset) {
  productPairs(range: $range, preset: $preset, limit: 10) {
    productAName productBName orders support confidenceAToB confidenceBToA lift freshness ${FRESH}
  }
}`;

/** Customers per band from the "at least bound" counts: each band is its count minus the next one's. */
export function bands(counts) {
  return counts.map((count, i) => count - (i + 1 < counts.length ? counts[i + 1] : 0));
}

export function variables(params) {
  return { ...rangeVariables(params), granularity: params.get("stageGranularity") || "WEEK" };
}

export async function render({ main, params, isCurrent }) {
  const vars = variables(params);
  const { data, errors } = await gql(QUERY, vars);
  if (!isCurrent()) return;
  useStore(data.store);
  showRange(null, null);
  const pairs = h("div", {}, loading("Loading the products bought together…"));
  fill(main, 
    h("h1", {}, "Lifecycle"),
    errors.length ? h("p", { class: "state error", role: "alert" }, errors.map((e) => e.message).join(" ")) : null,
    h("div", { class: "grid" },
      clvPanel(data),
      stagesPanel(data.lifecycleStages, vars),
      cohortPanel(data.cohorts),
      channelsPanel(data.acquisitionChannels),
      rhythmPanel(data.purchaseRhythm),
      panel({ title: "Products bought together", id: "pairs", body: pairs })));
  loadPairs(pairs, vars, isCurrent);
}

async function loadPairs(where, vars, isCurrent) {
  try {
    const { data } = await gql(PAIRS_QUERY, { range: vars.range, preset: vars.preset });
    if (!isCurrent()) return;
    const rows = data.productPairs;
    if (!rows.length) {
      where.replaceChildren(empty("No two products were bought together in this range."));
      return;
    }
    const head = h("thead", {}, h("tr", {}, ["Product A", "Product B", "Orders", "Confidence A→B", "Lift"]
      .map((c, i) => h("th", { scope: "col", class: i > 1 ? "num" : null }, c))));
    const body = h("tbody", {}, rows.map((p) => h("tr", {}, h("td", {}, p.productAName), h("td", {}, p.productBName),
      h("td", { class: "num" }, num(p.orders)), h("td", { class: "num" }, pct(p.confidenceAToB)), h("td", { class: "num" }, dec(p.lift)))));
    where.replaceChildren(h("div", { class: "table-wrap" }, h("table", { class: "data", "data-testid": "pairs-table" }, head, body)),
      h("p", { class: "fresh muted" }, freshness(rows[0].freshness)));
  } catch (error) {
    if (isCurrent()) failed(error, where, () => loadPairs(where, vars, isCurrent));
  }
}

function clvPanel(data) {
  const model = data.clvModel;
  if (!model || model.status !== "READY") {
    const why = !model ? "No CLV model has been fitted yet (the nightly precompute fits one; or run `clvFitStart`)."
      : `The latest fit is ${titleCase(model.status)}${model.reason ? `: ${model.reason}` : ""}.`;
    return panel({ title: "Predicted CLV", id: "clv", wide: true, body: empty(why) });
  }
  const alive = bands(P_ALIVE_BOUNDS.map((_, i) => data[`pAlive${i}`].totalCount));
  const value = bands(VALUE_BOUNDS.map((_, i) => data[`value${i}`].totalCount));
  const aliveLabels = P_ALIVE_BOUNDS.map((b, i) => `${pct(b)}–${pct(P_ALIVE_BOUNDS[i + 1] ?? 1)}`);
  const valueLabels = VALUE_BOUNDS.map((b, i) => (i + 1 < VALUE_BOUNDS.length ? `${num(b)}–${num(VALUE_BOUNDS[i + 1])}` : `${num(b)}+`));
  return panel({ title: "Predicted CLV (12 months) and P(alive)", id: "clv", wide: true, fresh: model.freshness,
    note: `Model fitted ${instant(model.fittedAt)} on ${num(model.customers)} buyers (${num(model.repeatCustomers)} repeat), orders up to ${model.cutoff}.`,
    body: h("div", { class: "grid" },
      h("div", {}, h("h3", {}, "Customers by P(alive)"), barChart({ labels: aliveLabels, label: "Customers by probability of being alive",
        series: [{ name: "Customers", values: alive, color: 4 }] }),
        dataTable("P(alive) distribution", ["Band", "Customers"], aliveLabels.map((l, i) => [l, alive[i]]), "palive-table")),
      h("div", {}, h("h3", {}, `Customers by predicted value (${currentStore().currencyCode})`), barChart({ labels: valueLabels, label: "Customers by predicted 12-month value",
        series: [{ name: "Customers", values: value, color: 5 }] }),
        dataTable("Predicted value distribution", ["Band", "Customers"], valueLabels.map((l, i) => [l, value[i]]), "clv-table"))) });
}

function stagesPanel(points, vars) {
  const tools = toggle("Granularity", [["DAY", "Day"], ["WEEK", "Week"], ["MONTH", "Month"]], vars.granularity,
    (g) => setParams({ stageGranularity: g }));
  const names = [["active", "Active", 0], ["new", "New", 4], ["reactivated", "Reactivated", 5], ["atRisk", "At risk", 3], ["churned", "Churned", 1]];
  const body = points.length ? h("div", {}, barChart({ labels: points.map((p) => p.label), stacked: true, wide: true, label: "Buyers per lifecycle stage",
    series: names.map(([key, name, color]) => ({ name, values: points.map((p) => p[key]), color })) }),
    dataTable("Lifecycle stages", ["Period", ...names.map((n) => n[1])], points.map((p) => [p.label, ...names.map(([key]) => p[key])]), "stages-table"))
    : empty("No buyers in this range.");
  return panel({ title: "Lifecycle stages over time", id: "stages", tools, wide: true, body, fresh: points[0]?.freshness });
}

function cohortPanel(cohorts) {
  if (!cohorts.length) return panel({ title: "Cohort retention", id: "cohorts", wide: true, body: empty("No first orders in this range.") });
  const width = Math.max(...cohorts.map((c) => c.cells.length));
  const table = h("table", { class: "data cohort", "data-testid": "cohort-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Cohort"), h("th", { scope: "col", class: "num" }, "Size"),
      Array.from({ length: width }, (_, i) => h("th", { scope: "col", class: "num" }, `M${i}`)))),
    h("tbody", {}, cohorts.map((c) => h("tr", {}, h("th", { scope: "row" }, c.label), h("td", {}, num(c.size)),
      c.cells.map((cell) => h("td", { class: `heat${Math.min(9, Math.round(cell.share * 9))}`, title: `${num(cell.customers)} customers` }, pct(cell.share)))))));
  return panel({ title: "Cohort retention (share of each first-order month buying again)", id: "cohorts", wide: true,
    body: h("div", { class: "table-wrap" }, table), fresh: cohorts[0].freshness });
}

function channelsPanel(channels) {
  const body = channels.length ? h("div", { class: "table-wrap" }, h("table", { class: "data", "data-testid": "channels-table" },
    h("thead", {}, h("tr", {}, ["Channel", "New customers", "Revenue", "Repeat rate", "Avg LTV", "Spend", "CAC", "LTV : CAC"]
      .map((c, i) => h("th", { scope: "col", class: i ? "num" : null }, c)))),
    h("tbody", {}, channels.map((c) => h("tr", {}, h("td", {}, c.channel || "(unknown)"), h("td", { class: "num" }, num(c.newCustomers)),
      h("td", { class: "num" }, cur(c.revenueInRange)), h("td", { class: "num" }, pct(c.repeatRate)), h("td", { class: "num" }, cur(c.averageLtv)),
      h("td", { class: "num" }, cur(c.spend)), h("td", { class: "num", "data-value": c.cac?.amount ?? "", "data-currency": c.cac?.currencyCode }, cur(c.cac)),
      h("td", { class: "num" }, c.ltvToCac === null ? "–" : dec(c.ltvToCac)))))))
    : empty("No customers acquired in this range.");
  return panel({ title: "Acquisition channels", id: "channels", wide: true, body, fresh: channels[0]?.freshness });
}

function rhythmPanel(r) {
  return panel({ title: "Purchase rhythm", id: "rhythm", fresh: r.freshness, body: h("dl", { class: "facts" },
    h("dt", {}, "Average days between orders"), h("dd", {}, dec(r.averageDaysBetweenOrders)),
    h("dt", {}, "Median days between orders"), h("dd", {}, dec(r.medianDaysBetweenOrders)),
    h("dt", {}, "Repeat buyers"), h("dd", {}, num(r.repeatBuyers)),
    h("dt", {}, "Average lifetime of repeat buyers"), h("dd", {}, r.averageLifetimeDays === null ? "–" : `${dec(r.averageLifetimeDays)} days`)) });
}

