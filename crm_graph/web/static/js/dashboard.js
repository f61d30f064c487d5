// The CRM dashboard (edrone): consent KPI cards, subscriptions over time, subscription by gender,
// identified vs unidentified, spenders vs prospects, activity risk, spender segments, top tags and the
// RFM heat map. One request: `dashboard` and `rfmGrid` of the selected range, with `store`.

import { gql } from "./api.js";
import { fill, h, panel, toggle, tabs, dataTable, empty } from "./dom.js";
import { lineChart, barChart, shareBar } from "./charts.js";
import { num, pct, cur, day, change, freshness, titleCase } from "./format.js";
import { navigate, rangeVariables, setParams, showRange, useStore } from "./main.js";

const FRESH = "{ computedAt source cached }";
const MONEY = "{ amount currencyCode }";
export const QUERY = `
query DashboardScreen($range: DateRange, $preset: DatePreset, $subGranularity: Granularity!, $idGranularity: Granularity!, $channel: Channel!) {
  store { name timezone currencyCode customerCount }
  dashboard(range: $range, preset: $preset) {
    from to comparisonDay
    consentFresh: freshness(widget: CONSENT_KPIS) ${FRESH}
    subscriptionsFresh: freshness(widget: SUBSCRIPTIONS) ${FRESH}
    genderFresh: freshness(widget: SUBSCRIPTIONS_BY_GENDER) ${FRESH}
    tagsFresh: freshness(widget: TOP_TAGS) ${FRESH}
    consentKpis { channel bucket day comparedDay value previous change relativeChange }
    subscriptions(granularity: $subGranularity, channel: $channel) { label from to subscribed unsubscribed unknown customers }
    subscriptionsByGender(channel: $channel) { gender subscribed unsubscribed unknown }
    identified(granularity: $idGranularity) { customers identified unidentified freshness ${FRESH}
      points { label identified unidentified customers } }
    spendersProspects { day spenders prospects customers freshness ${FRESH} }
    activity { day active lowRisk highRisk customers activeDays lowRiskDays freshness ${FRESH} }
    spenderSegments { day spenders lowPercentile highPercentile valueLowThreshold ${MONEY} valueHighThreshold ${MONEY} frequentThreshold
      small medium big oneTime repeat frequent freshness ${FRESH} }
    topTags { tag { name } customers }
  }
  rfmGrid(range: $range, preset: $preset) {
    scheme customers prospects revenue ${MONEY} computedAt freshness ${FRESH}
    cells { r fm segment segmentLabel customers revenue ${MONEY} shareOfCustomers }
  }
}`;

const GRANULARITIES = [["DAY", "Day"], ["WEEK", "Week"], ["MONTH", "Month"], ["YEAR", "Year"]];
const BUCKETS = ["SUBSCRIBED", "UNSUBSCRIBED", "UNKNOWN"];

/** The variables of the screen's request for these URL parameters. */
export function variables(params) {
  return {
    ...rangeVariables(params),
    subGranularity: params.get("subGranularity") || "DAY",
    idGranularity: params.get("idGranularity") || "DAY",
    channel: params.get("channel") || "EMAIL",
  };
}

export async function render({ main, params, isCurrent }) {
  const vars = variables(params);
  const { data, errors } = await gql(QUERY, vars);
  if (!isCurrent()) return;
  useStore(data.store);
  const d = data.dashboard;
  showRange(d.from, d.to);
  fill(main, 
    h("h1", {}, "CRM dashboard"),
    errors.length ? h("p", { class: "state error", role: "alert" }, errors.map((e) => e.message).join(" ")) : null,
    consentCards(d),
    h("div", { class: "grid" },
      subscriptions(d, vars),
      byGender(d, vars),
      spendersProspects(d.spendersProspects),
      identified(d, vars),
      activity(d.activity),
      spenderSegments(d.spenderSegments),
      topTags(d.topTags, d.tagsFresh),
      rfmHeatmap(data.rfmGrid, params)));
}

function consentCards(d) {
  const cards = [];
  for (const channel of ["EMAIL", "SMS"]) {
    for (const bucket of BUCKETS) {
      const kpi = d.consentKpis.find((k) => k.channel === channel && k.bucket === bucket);
      if (!kpi) continue;
      const direction = kpi.change > 0 ? "up" : kpi.change < 0 ? "down" : "flat";
      cards.push(h("article", { class: "kpi", "data-testid": `kpi-${channel}-${bucket}`, "data-value": kpi.value, "data-change": kpi.change },
        h("h3", {}, `${channel === "EMAIL" ? "Email" : "SMS"} ${titleCase(bucket).toLowerCase()}`),
        h("p", { class: "kpi-value" }, num(kpi.value)),
        h("p", { class: `kpi-change ${direction}`, title: `${num(kpi.previous)} on ${day(kpi.comparedDay)}` },
          h("span", { class: "sr-only" }, direction === "up" ? "Up " : direction === "down" ? "Down " : "No change "),
          change(kpi.change, kpi.relativeChange), h("span", { class: "muted" }, ` vs ${day(kpi.comparedDay)}`))));
    }
  }
  return h("section", { class: "panel wide", "data-widget": "consent-kpis", "aria-labelledby": "consent-title" },
    h("header", { class: "panel-head" }, h("h2", { id: "consent-title" }, `Consents on ${day(d.to)} (change vs 30 days before)`)),
    cards.length ? h("div", { class: "kpis" }, cards) : empty("No consent figures for this range."),
    h("footer", { class: "fresh muted", "data-fresh": "" }, freshness(d.consentFresh)));
}

function subscriptions(d, vars) {
  const points = d.subscriptions;
  const tools = [
    toggle("Channel", [["EMAIL", "Email"], ["SMS", "SMS"]], vars.channel, (channel) => setParams({ channel })),
    toggle("Granularity", GRANULARITIES, vars.subGranularity, (g) => setParams({ subGranularity: g })),
  ];
  const labels = points.map((p) => p.label);
  const body = points.length ? [
    lineChart({ labels, wide: true, label: `${vars.channel} subscriptions over time`, series: [
      { name: "Subscribed", values: points.map((p) => p.subscribed), color: 0 },
      { name: "Unsubscribed", values: points.map((p) => p.unsubscribed), color: 1 },
      { name: "Unknown", values: points.map((p) => p.unknown), color: 2 },
    ] }),
    dataTable("Subscriptions over time", ["Period", "Subscribed", "Unsubscribed", "Unknown"],
      points.map((p) => [p.label, p.subscribed, p.unsubscribed, p.unknown]), "subscriptions-table"),
  ] : empty("No subscription data in this range.");
  return panel({ title: "Subscriptions over time", id: "subscriptions", tools, body: h("div", {}, body), fresh: d.subscriptionsFresh, wide: true });
}

function byGender(d, vars) {
  const rows = d.subscriptionsByGender;
  const body = rows.length ? [
    barChart({ labels: rows.map((r) => titleCase(r.gender)), label: `${vars.channel} subscription by gender`, series: [
      { name: "Subscribed", values: rows.map((r) => r.subscribed), color: 0 },
      { name: "Unsubscribed", values: rows.map((r) => r.unsubscribed), color: 1 },
      { name: "Unknown", values: rows.map((r) => r.unknown), color: 2 },
    ] }),
    dataTable("Subscription by gender", ["Gender", "Subscribed", "Unsubscribed", "Unknown"],
      rows.map((r) => [r.gender, r.subscribed, r.unsubscribed, r.unknown]), "gender-table"),
  ] : empty("No customers.");
  return panel({ title: `Subscription × gender (${vars.channel === "EMAIL" ? "email" : "SMS"})`, id: "gender", body: h("div", {}, body), fresh: d.genderFresh });
}

function identified(d, vars) {
  const series = d.identified;
  const tools = toggle("Granularity", GRANULARITIES, vars.idGranularity, (g) => setParams({ idGranularity: g }));
  const cards = h("div", { class: "mini-kpis" },
    miniKpi("All customers", series.customers, "identified-customers"),
    miniKpi("Identified", series.identified, "identified-identified"),
    miniKpi("Unidentified", series.unidentified, "identified-unidentified"));
  const points = series.points;
  const body = points.length ? [
    barChart({ labels: points.map((p) => p.label), stacked: true, wide: true, label: "Identified and unidentified customers", series: [
      { name: "Identified", values: points.map((p) => p.identified), color: 0 },
      { name: "Unidentified", values: points.map((p) => p.unidentified), color: 3 },
    ] }),
    dataTable("Identified vs unidentified", ["Period", "Identified", "Unidentified", "Customers"],
      points.map((p) => [p.label, p.identified, p.unidentified, p.customers]), "identified-table"),
  ] : empty("No customers in this range.");
  return panel({ title: "Identified vs unidentified", id: "identified", tools, body: h("div", {}, cards, body), fresh: series.freshness, wide: true });
}

function miniKpi(label, value, testid, format = num) {
  return h("div", { class: "mini", "data-testid": testid, "data-value": value }, h("span", { class: "muted" }, label), h("strong", {}, format(value)));
}

function spendersProspects(sp) {
  const body = h("div", {},
    h("div", { class: "mini-kpis" },
      miniKpi("Spenders", sp.spenders, "spenders"), miniKpi("Prospects", sp.prospects, "prospects"),
      miniKpi("Customers", sp.customers, "sp-customers")),
    shareBar([{ name: "Spenders", value: sp.spenders, color: 0 }, { name: "Prospects", value: sp.prospects, color: 2 }],
      `Spenders ${num(sp.spenders)}, prospects ${num(sp.prospects)}`),
    sp.customers ? h("p", { class: "muted" }, `${pct(sp.spenders / sp.customers)} of customers have bought (as of ${day(sp.day)}).`) : null);
  return panel({ title: "Spenders vs prospects", id: "spenders-prospects", body, fresh: sp.freshness });
}

function activity(a) {
  const body = h("div", {},
    h("div", { class: "mini-kpis" },
      miniKpi("Active", a.active, "activity-active"), miniKpi("Low risk", a.lowRisk, "activity-low"),
      miniKpi("High risk", a.highRisk, "activity-high")),
    shareBar([{ name: "Active", value: a.active, color: 0 }, { name: "Low risk", value: a.lowRisk, color: 2 },
      { name: "High risk", value: a.highRisk, color: 1 }], "Activity risk"),
    h("p", { class: "muted" }, `Active: seen in the last ${a.activeDays} days; low risk: within ${a.lowRiskDays} days; high risk: longer ago (as of ${day(a.day)}).`));
  return panel({ title: "Activity risk", id: "activity", body, fresh: a.freshness });
}

function spenderSegments(sg) {
  const rows = (items) => h("div", { class: "mini-kpis" }, items.map(([label, value, id, note]) =>
    h("div", { class: "mini", "data-testid": id, "data-value": value }, h("span", { class: "muted" }, label), h("strong", {}, num(value)),
      h("small", { class: "muted" }, note))));
  const body = tabs("Spender segments", [["value", "By value"], ["frequency", "By frequency"]], (which) => which === "value"
    ? h("div", {}, rows([
      ["Small", sg.small, "segment-small", `below ${cur(sg.valueLowThreshold)}`],
      ["Medium", sg.medium, "segment-medium", `${cur(sg.valueLowThreshold)} – ${cur(sg.valueHighThreshold)}`],
      ["Big", sg.big, "segment-big", `above ${cur(sg.valueHighThreshold)}`],
    ]), h("p", { class: "muted" }, `Thresholds: the ${num(sg.lowPercentile)}th and ${num(sg.highPercentile)}th percentiles of what the ${num(sg.spenders)} spenders spent.`))
    : h("div", {}, rows([
      ["One-time", sg.oneTime, "segment-one-time", "1 order"],
      ["Repeat", sg.repeat, "segment-repeat", `2 – ${sg.frequentThreshold - 1} orders`],
      ["Frequent", sg.frequent, "segment-frequent", `${sg.frequentThreshold}+ orders`],
    ])));
  return panel({ title: "Spender segments", id: "spender-segments", body, fresh: sg.freshness });
}

function topTags(tags, fresh) {
  const top = tags.slice(0, 10);
  const max = Math.max(1, ...top.map((t) => t.customers));
  const body = top.length ? h("ol", { class: "hbars", "data-testid": "top-tags" }, top.map((t) => {
    const bar = h("span", { class: "hbar c0" });
    bar.style.width = `${(100 * t.customers) / max}%`;
    return h("li", { "data-value": t.customers },
      h("button", { type: "button", class: "link", onclick: () => navigate("customers", { tag: t.tag.name }) }, t.tag.name),
      h("span", { class: "hbar-track" }, bar), h("span", { class: "num" }, num(t.customers)));
  })) : empty("No tags yet.");
  return panel({ title: "Top 10 tags", id: "top-tags", body, fresh });
}

/** The RFM grid as a heat map of buttons: arrow keys move between cells, Enter opens the cell's customers. */
function rfmHeatmap(grid, params) {
  const size = Math.max(0, ...grid.cells.map((c) => Math.max(c.r, c.fm)));
  if (!size || !grid.customers) {
    return panel({ title: "RFM", id: "rfm", body: empty("No buyers in this range, so no RFM grid."), fresh: grid.freshness });
  }
  const byPosition = new Map(grid.cells.map((c) => [`${c.r}.${c.fm}`, c]));
  const max = Math.max(1, ...grid.cells.map((c) => c.customers));
  const table = h("div", { class: "rfm", role: "grid", "aria-label": "RFM grid: recency (rows) by frequency and value (columns)" });
  table.style.setProperty("--rfm-size", String(size));
  const buttons = [];
  const move = (r, fm) => {
    const target = buttons.find((b) => Number(b.dataset.r) === r && Number(b.dataset.fm) === fm);
    if (target) target.focus();
  };
  for (let r = size; r >= 1; r -= 1) {
    const row = h("div", { role: "row", class: "rfm-row" }, h("span", { role: "rowheader", class: "rfm-axis" }, `R${r}`));
    for (let fm = 1; fm <= size; fm += 1) {
      const cell = byPosition.get(`${r}.${fm}`) || { r, fm, customers: 0, segmentLabel: "", shareOfCustomers: 0,
        revenue: { amount: "0", currencyCode: grid.revenue.currencyCode } };
      const level = cell.customers ? Math.min(9, Math.ceil((9 * cell.customers) / max)) : 0;
      const button = h("button", {
        type: "button", role: "gridcell", class: `rfm-cell heat${level}`, tabindex: r === size && fm === size ? "0" : "-1",
        "data-r": r, "data-fm": fm, "data-value": cell.customers, "data-testid": `rfm-${r}-${fm}`,
        "aria-label": `R ${r}, FM ${fm}: ${cell.segmentLabel}, ${num(cell.customers)} customers (${pct(cell.shareOfCustomers)}), revenue ${cur(cell.revenue)}. Enter lists them.`,
        onclick: () => navigate("customers", { rfm: `${r}.${fm}`, scheme: grid.scheme }),
        onkeydown: (event) => {
          const step = { ArrowUp: [1, 0], ArrowDown: [-1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[event.key];
          if (step) {
            event.preventDefault();
            move(r + step[0], fm + step[1]);
          }
        },
      }, h("strong", {}, num(cell.customers)), h("small", {}, cell.segmentLabel));
      buttons.push(button);
      row.append(button);
    }
    table.append(row);
  }
  table.append(h("div", { role: "row", class: "rfm-row" }, h("span", { class: "rfm-axis" }),
    Array.from({ length: size }, (_, i) => h("span", { role: "columnheader", class: "rfm-axis" }, `FM${i + 1}`))));
  const body = h("div", {},
    h("p", { class: "muted" }, `${num(grid.customers)} buyers, `,
      h("span", { "data-testid": "rfm-revenue", "data-value": grid.revenue.amount, "data-currency": grid.revenue.currencyCode }, cur(grid.revenue)),
      ` revenue, ${num(grid.prospects)} prospects · ${titleCase(grid.scheme)} scheme`),
    table);
  return panel({ title: "RFM grid", id: "rfm", body, fresh: grid.freshness,
    note: params.get("preset") || !params.get("from") ? null : "A custom range is computed live." });
}
