// Customers (Putler): period KPIs with the previous period and the new/returning/lost chart; the
// customer table with search, facets, filters, sort and pagination; saved segments; bulk actions
// (export, consent, erase) that run as background jobs, followed to completion. One request for the
// screen (`periodKpis`, `customers` with facets, `segments`, `jobs`); mutations and job polling on use.

import { gql } from "./api.js";
import { fill, h, panel, empty, dataTable } from "./dom.js";
import { barChart, lineChart } from "./charts.js";
import { num, pct, cur, day, instant, instantDay, change, titleCase } from "./format.js";
import { confirmAction, rangeVariables, setParams, showRange, toast, useStore } from "./main.js";

const PAGE = 25;
const COUNT = "{ value previous change relativeChange }";
const JOB = "id kind status error createdAt finishedAt progress { done total fraction } counts { name value } download { url expiresAt }";
export const QUERY = `
query CustomersScreen($range: DateRange, $preset: DatePreset, $filter: CustomerFilter, $sort: CustomerSort!,
                      $direction: SortDirection!, $first: Int!, $after: String) {
  store { name timezone currency customerCount }
  periodKpis(range: $range, preset: $preset, granularity: DAY) {
    range { from to days } previousRange { from to days } freshness { computedAt source cached }
    customers ${COUNT} newCustomers ${COUNT} returningCustomers ${COUNT} lostCustomers ${COUNT} orders ${COUNT}
    netRevenue ${COUNT} averageOrderValue ${COUNT} averageRevenuePerCustomer ${COUNT}
    series { label customers newCustomers revenue orders }
  }
  customers(filter: $filter, sort: $sort, direction: $direction, first: $first, after: $after) {
    totalCount hasNextPage endCursor
    nodes { id email phone firstName lastName country totalSpent ordersCount createdAt lastOrderAt identities { source crmId } }
    facets {
      countries(limit: 8) { value label count }
      products(limit: 8) { value label count }
      revenueBands { value label count }
      customerSince { value label count }
    }
  }
  segments { id name memberCount lastComputedAt computing lastError }
  jobs(first: 6) { nodes { ${JOB} } }
}`;

const SORTS = [["CREATED", "Created"], ["NAME", "Name"], ["LAST_ORDER", "Last order"], ["TOTAL_SPENT", "Total spent"], ["ID", "ID"]];
const list = (params, name) => (params.get(name) ? params.get(name).split(",").filter(Boolean) : []);
/** Cursors of the pages before the current one (Previous goes back through them). */
let previousCursors = [];
let selected = new Set();
const followed = new Map();

/** The CustomerFilter of the URL parameters (null: everyone). */
export function filterOf(params) {
  const f = {};
  if (params.get("q")) f.search = params.get("q");
  if (list(params, "country").length) f.countries = list(params, "country");
  if (list(params, "product").length) f.productIds = list(params, "product");
  if (list(params, "band").length) f.revenueBands = list(params, "band");
  if (list(params, "since").length) {
    const years = list(params, "since").map(Number).sort();
    f.customerSinceFrom = `${years[0]}-01-01`;
    f.customerSinceTo = `${years[years.length - 1]}-12-31`;
  }
  if (params.get("tag")) f.tags = [params.get("tag")];
  if (params.get("email")) f.emailConsent = [params.get("email")];
  if (params.get("spentMin")) f.spentMin = params.get("spentMin");
  if (params.get("identified")) f.identified = params.get("identified") === "yes";
  if (params.get("segment")) f.segmentId = params.get("segment");
  if (params.get("rfm")) {
    const [r, fm] = params.get("rfm").split(".").map(Number);
    const range = rangeVariables(params);
    f.rfm = { cells: [{ r, fm }], scheme: params.get("scheme") || null, ...(range.range ? { range: range.range } : { preset: range.preset }) };
  }
  return Object.keys(f).length ? f : null;
}

export function variables(params) {
  return {
    ...rangeVariables(params), filter: filterOf(params), sort: params.get("sort") || "CREATED",
    direction: params.get("dir") || "DESC", first: PAGE, after: params.get("after") || null,
  };
}

export async function render({ main, params, isCurrent }) {
  const vars = variables(params);
  if (!vars.after) previousCursors = [];
  const { data, errors } = await gql(QUERY, vars);
  if (!isCurrent()) return;
  useStore(data.store);
  const k = data.periodKpis;
  showRange(k.range.from, k.range.to);
  fill(main, 
    h("h1", {}, "Customers"),
    errors.length ? h("p", { class: "state error", role: "alert" }, errors.map((e) => e.message).join(" ")) : null,
    periodPanel(k),
    h("div", { class: "layout" },
      h("div", {}, facetsPanel(data.customers.facets, params), segmentsPanel(data.segments, vars.filter, params)),
      h("div", {}, tablePanel(data.customers, params, vars), jobsPanel(data.jobs.nodes))));
}

// --- period KPIs ---------------------------------------------------------------------------------

function periodPanel(k) {
  const cards = [
    ["Customers", k.customers, num, "period-customers"], ["New", k.newCustomers, num, "period-new"],
    ["Returning", k.returningCustomers, num, "period-returning"], ["Lost", k.lostCustomers, num, "period-lost", true],
    ["Net revenue", k.netRevenue, cur, "period-revenue"], ["Orders", k.orders, num, "period-orders"],
    ["Avg order value", k.averageOrderValue, cur, "period-aov"], ["Revenue per customer", k.averageRevenuePerCustomer, cur, "period-arpc"],
  ].map(([label, figure, format, testid, fewerIsBetter]) => {
    const delta = figure.change === null ? null : Number(figure.change);
    const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    // Green is good news: for lost customers, that is fewer of them.
    const tone = direction === "flat" ? "" : (direction === "up") !== Boolean(fewerIsBetter) ? "good" : "bad";
    return h("article", { class: "kpi", "data-testid": testid, "data-value": figure.value ?? "" },
      h("h3", {}, label), h("p", { class: "kpi-value" }, format(figure.value)),
      h("p", { class: `kpi-change ${direction} ${tone}` },
        h("span", { class: "sr-only" }, direction === "up" ? "Up " : direction === "down" ? "Down " : "No change "),
        format === num ? change(delta, figure.relativeChange)
          : `${delta > 0 ? "▲ +" : delta < 0 ? "▼ " : "■ "}${cur(delta)}${figure.relativeChange === null ? "" : ` (${pct(figure.relativeChange)})`}`,
        h("span", { class: "muted" }, ` vs ${format(figure.previous)}`)));
  });
  const groups = barChart({ labels: ["New", "Returning", "Lost"], label: "New, returning and lost customers, this period and the previous", series: [
    { name: `${day(k.range.from)} – ${day(k.range.to)}`, values: [k.newCustomers.value, k.returningCustomers.value, k.lostCustomers.value], color: 0 },
    { name: `Previous ${k.previousRange.days} days`, values: [k.newCustomers.previous, k.returningCustomers.previous, k.lostCustomers.previous], color: 2 },
  ] });
  const trend = k.series.length > 1 ? lineChart({ labels: k.series.map((p) => p.label), label: "Customers and new customers per day", series: [
    { name: "Customers who ordered", values: k.series.map((p) => p.customers), color: 0 },
    { name: "New customers", values: k.series.map((p) => p.newCustomers), color: 4 },
  ] }) : null;
  return panel({ title: `This period vs the previous ${k.previousRange.days} days`, id: "period", wide: true, fresh: k.freshness,
    body: h("div", {}, h("div", { class: "kpis" }, cards), h("div", { class: "grid" }, h("div", {}, groups), h("div", {}, trend)),
      dataTable("New, returning, lost", ["", "This period", "Previous"], [
        ["New", k.newCustomers.value, k.newCustomers.previous], ["Returning", k.returningCustomers.value, k.returningCustomers.previous],
        ["Lost", k.lostCustomers.value, k.lostCustomers.previous]], "nrl-table")) });
}

// --- facets and filters --------------------------------------------------------------------------

function facetsPanel(facets, params) {
  const group = (title, name, values) => h("fieldset", { "data-facet": name }, h("legend", {}, title),
    values.length ? values.filter((v) => v.value !== null).map((v) => {
      const chosen = list(params, name).includes(v.value);
      return h("label", {}, h("input", { type: "checkbox", checked: chosen, value: v.value, onchange: () => {
        const next = chosen ? list(params, name).filter((x) => x !== v.value) : [...list(params, name), v.value];
        setParams({ [name]: next.join(","), after: null });
      } }), v.label, h("span", { class: "num" }, num(v.count)));
    }) : h("p", { class: "muted" }, "–"));
  return panel({ title: "Facets", id: "facets", body: h("div", { class: "facets" },
    group("Country", "country", facets.countries), group("Product", "product", facets.products),
    group("Revenue band", "band", facets.revenueBands), group("Customer since", "since", facets.customerSince)) });
}

function segmentsPanel(segments, filter, params) {
  const nameInput = h("input", { type: "text", placeholder: "Segment name", "aria-label": "Name of the new segment" });
  const save = async () => {
    if (!nameInput.value.trim() || !filter) {
      toast(filter ? "Name the segment first." : "Choose a filter first: a segment is a saved filter.", "error");
      return;
    }
    const { segmentId, ...rest } = filter;
    try {
      const { data } = await gql(`mutation($input: SegmentInput!) { createSegment(input: $input) {
        __typename ... on Segment { id name } ... on MutationError { message } } }`, { input: { name: nameInput.value.trim(), filter: rest } });
      const result = data.createSegment;
      if (result.__typename !== "Segment") throw new Error(result.message);
      toast(`Segment “${result.name}” saved.`);
      setParams({ segment: result.id });
    } catch (error) {
      toast(error.message, "error");
    }
  };
  const items = segments.length ? h("ul", { class: "jobs" }, segments.map((segment) => h("li", { "data-testid": `segment-${segment.id}` },
    h("button", { type: "button", class: "link", "aria-pressed": String(params.get("segment") === segment.id),
      onclick: () => setParams({ segment: params.get("segment") === segment.id ? null : segment.id, after: null }) }, segment.name),
    h("span", { class: "num" }, segment.memberCount === null ? "not counted" : num(segment.memberCount)),
    h("small", { class: "muted" }, segment.computing ? "counting…" : segment.lastError ? `error: ${segment.lastError}`
      : segment.lastComputedAt ? `counted ${instant(segment.lastComputedAt)}` : "never counted")))) : empty("No saved segments yet.");
  return panel({ title: "Saved segments", id: "segments", body: h("div", {}, items,
    h("div", { class: "toolbar" }, nameInput, h("button", { type: "button", onclick: save }, "Save filter as segment"))) });
}

function filterChips(params) {
  const chips = [];
  const add = (label, names) => chips.push(h("button", { type: "button", class: "chip", "aria-label": `Remove filter ${label}`,
    onclick: () => setParams(Object.fromEntries([...names, "after"].map((n) => [n, null]))) }, `${label} ✕`));
  if (params.get("rfm")) add(`RFM cell R${params.get("rfm").replace(".", " · FM")}`, ["rfm", "scheme"]);
  if (params.get("tag")) add(`Tag: ${params.get("tag")}`, ["tag"]);
  if (params.get("segment")) add("Segment", ["segment"]);
  for (const [name, label] of [["country", "Country"], ["product", "Product"], ["band", "Revenue band"], ["since", "Since"]]) {
    if (params.get(name)) add(`${label}: ${params.get(name)}`, [name]);
  }
  return chips.length ? h("div", { class: "chips", "data-testid": "filter-chips" }, chips) : null;
}

// --- the table -----------------------------------------------------------------------------------

function tablePanel(connection, params, vars) {
  const search = h("input", { type: "search", value: params.get("q") || "", placeholder: "Email, phone, name or ID", "aria-label": "Search customers", "data-testid": "search" });
  search.addEventListener("keydown", (e) => e.key === "Enter" && setParams({ q: search.value.trim(), after: null }));
  const consent = h("select", { "aria-label": "Email consent", onchange: (e) => setParams({ email: e.target.value, after: null }) },
    [["", "Any email consent"], ["SUBSCRIBED", "Email subscribed"], ["UNSUBSCRIBED", "Email unsubscribed"], ["UNKNOWN", "Email unknown"]]
      .map(([value, text]) => h("option", { value, selected: (params.get("email") || "") === value }, text)));
  const identified = h("select", { "aria-label": "Identified", onchange: (e) => setParams({ identified: e.target.value, after: null }) },
    [["", "Identified or not"], ["yes", "Identified"], ["no", "Unidentified"]]
      .map(([value, text]) => h("option", { value, selected: (params.get("identified") || "") === value }, text)));
  const spent = h("input", { type: "number", min: "0", step: "any", value: params.get("spentMin") || "", placeholder: "Spent at least", "aria-label": "Spent at least" });
  spent.addEventListener("change", () => setParams({ spentMin: spent.value, after: null }));
  const sort = h("select", { "aria-label": "Sort by", onchange: (e) => setParams({ sort: e.target.value, after: null }) },
    SORTS.map(([value, text]) => h("option", { value, selected: vars.sort === value }, text)));
  const direction = h("button", { type: "button", "aria-label": `Sort direction: ${vars.direction === "DESC" ? "descending" : "ascending"}`,
    onclick: () => setParams({ dir: vars.direction === "DESC" ? "ASC" : "DESC", after: null }) }, vars.direction === "DESC" ? "↓" : "↑");

  selected = new Set();
  const count = h("span", { class: "muted", "data-testid": "total-count", "data-value": connection.totalCount },
    `${num(connection.totalCount)} customers`);
  const rows = connection.nodes.map((c) => h("tr", { "data-id": c.id },
    h("td", {}, h("input", { type: "checkbox", "aria-label": `Select customer ${c.id}`, onchange: (e) => {
      if (e.target.checked) selected.add(c.id); else selected.delete(c.id);
    } })),
    h("td", {}, h("a", { href: `#/customer/${encodeURIComponent(c.id)}${location.hash.includes("?") ? `?${location.hash.split("?")[1]}` : ""}` }, c.id)),
    h("td", {}, c.identities.map((i) => i.crmId).join(", ") || "–"),
    h("td", {}, c.email || "–"), h("td", {}, c.phone || "–"),
    h("td", {}, [c.firstName, c.lastName].filter(Boolean).join(" ") || "–"),
    h("td", {}, c.country || "–"), h("td", { class: "num" }, num(c.ordersCount)), h("td", { class: "num" }, cur(c.totalSpent)),
    h("td", {}, instantDay(c.createdAt))));
  const table = connection.nodes.length ? h("div", { class: "table-wrap" }, h("table", { class: "data", "data-testid": "customer-table" },
    h("thead", {}, h("tr", {}, ["", "ID", "CRM ID", "Email", "Phone", "Name", "Country", "Orders", "Spent", "Created"]
      .map((c, i) => h("th", { scope: "col", class: i >= 7 && i <= 8 ? "num" : null }, c)))),
    h("tbody", {}, rows))) : empty("No customer matches these filters.");
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", disabled: !vars.after, onclick: () => setParams({ after: previousCursors.pop() || null }) }, "← Previous"),
    h("button", { type: "button", disabled: !connection.hasNextPage, "data-testid": "next-page", onclick: () => {
      previousCursors.push(vars.after);
      setParams({ after: connection.endCursor });
    } }, "Next →"));
  const bulk = h("div", { class: "toolbar", "aria-label": "Bulk actions", role: "group" },
    h("strong", {}, "Selected rows, or else everyone matching: "),
    h("button", { type: "button", "data-testid": "export", onclick: () => bulkExport(vars.filter) }, "Export CSV"),
    consentControls(vars.filter),
    h("button", { type: "button", class: "danger", "data-testid": "erase", onclick: () => bulkErase(vars.filter, connection.totalCount) }, "Erase…"));
  return panel({ title: "Customer list", id: "customers", body: h("div", {},
    h("div", { class: "toolbar" }, search, consent, identified, spent, sort, direction, count),
    filterChips(params), table, pager, bulk) });
}

function target(filter) {
  if (selected.size) return { ids: [...selected], filter: null, all: false };
  return filter ? { ids: null, filter, all: false } : { ids: null, filter: null, all: true };
}

async function mutate(document, variables, field) {
  const { data } = await gql(document, variables);
  const result = data[field];
  if (result.__typename !== "BulkChange" && result.__typename !== "Job") throw new Error(result.message);
  return result;
}

async function bulkExport(filter) {
  try {
    const job = await mutate(`mutation($filter: CustomerFilter) { exportCustomers(filter: $filter) {
      __typename ... on Job { ${JOB} } ... on MutationError { message } } }`, { filter }, "exportCustomers");
    follow(job);
  } catch (error) {
    toast(`Export failed: ${error.message}`, "error");
  }
}

function consentControls(filter) {
  const channel = h("select", { "aria-label": "Consent channel" }, h("option", { value: "EMAIL" }, "Email"), h("option", { value: "SMS" }, "SMS"));
  const state = h("select", { "aria-label": "Consent state" },
    ["SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED"].map((v) => h("option", { value: v }, titleCase(v))));
  const apply = async () => {
    try {
      const result = await mutate(`mutation($channel: Channel!, $state: ConsentState!, $ids: [ID!], $filter: CustomerFilter, $all: Boolean!) {
        setConsent(channel: $channel, state: $state, ids: $ids, filter: $filter, all: $all, reason: "dashboard bulk action") {
          __typename ... on BulkChange { changed job { ${JOB} } } ... on MutationError { message } } }`,
      { channel: channel.value, state: state.value, ...target(filter) }, "setConsent");
      if (result.job) follow(result.job); else toast(`Consent set for ${num(result.changed)} customers.`);
    } catch (error) {
      toast(`Consent change failed: ${error.message}`, "error");
    }
  };
  return h("span", { class: "toolbar" }, channel, state, h("button", { type: "button", onclick: apply }, "Set consent"));
}

async function bulkErase(filter, total) {
  const which = target(filter);
  const howMany = which.ids ? which.ids.length : total;
  const sure = await confirmAction("Erase customers?",
    `This erases the personal data of ${num(howMany)} customer${howMany === 1 ? "" : "s"} (GDPR erasure). It cannot be undone.`, "Erase");
  if (!sure) return;
  try {
    const result = await mutate(`mutation($ids: [ID!], $filter: CustomerFilter, $all: Boolean!) {
      eraseCustomers(ids: $ids, filter: $filter, all: $all) {
        __typename ... on BulkChange { changed job { ${JOB} } } ... on MutationError { message } } }`, which, "eraseCustomers");
    if (result.job) follow(result.job); else toast(`${num(result.changed)} customers erased.`);
  } catch (error) {
    toast(`Erasure failed: ${error.message}`, "error");
  }
}

// --- jobs ----------------------------------------------------------------------------------------

function jobItem(job) {
  const bar = h("span", {});
  bar.style.width = `${Math.round(100 * (job.status === "SUCCEEDED" ? 1 : job.progress.fraction || 0))}%`;
  return h("li", { "data-job": job.id, "data-status": job.status },
    h("strong", {}, titleCase(job.kind)), h("span", { class: `status-${job.status}` }, titleCase(job.status)),
    h("span", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": String(job.progress.total ?? 100),
      "aria-valuenow": String(job.progress.done), "aria-label": `Progress of job ${job.id}` }, bar),
    h("span", { class: "muted" }, job.progress.total ? `${num(job.progress.done)} / ${num(job.progress.total)}` : num(job.progress.done)),
    job.download ? h("a", { href: job.download.url, "data-testid": "download" }, "Download CSV") : null,
    job.error ? h("span", { class: "error" }, job.error) : null,
    h("small", { class: "muted" }, instant(job.createdAt)));
}

function jobsPanel(jobs) {
  const items = h("ul", { class: "jobs", "data-testid": "jobs" }, jobs.map(jobItem));
  return panel({ title: "Background jobs", id: "jobs", body: jobs.length ? items : h("div", {}, items, empty("No jobs yet.")) });
}

/** Show `job` at the top of the jobs panel and poll it until it ends. */
function follow(job) {
  toast(`${titleCase(job.kind)} started (job ${job.id}).`);
  const place = (current) => {
    const list = document.querySelector('[data-testid="jobs"]');
    if (!list) return;
    list.parentElement.querySelector(".state.empty")?.remove();
    const item = jobItem(current);
    const old = list.querySelector(`[data-job="${CSS.escape(current.id)}"]`);
    if (old) old.replaceWith(item); else list.prepend(item);
  };
  place(job);
  if (followed.has(job.id)) return;
  const poll = async () => {
    try {
      const { data } = await gql(`query($id: ID!) { job(id: $id) { ${JOB} } }`, { id: job.id });
      const current = data.job;
      if (!current) return;
      place(current);
      if (current.status === "SUCCEEDED" || current.status === "FAILED") {
        followed.delete(job.id);
        toast(`${titleCase(current.kind)} ${current.status === "SUCCEEDED" ? "finished" : `failed: ${current.error || ""}`}`, current.status === "FAILED" ? "error" : "info");
        return;
      }
      followed.set(job.id, setTimeout(poll, 600));
    } catch (error) {
      followed.delete(job.id);
      toast(`Could not follow job ${job.id}: ${error.message}`, "error");
    }
  };
  followed.set(job.id, setTimeout(poll, 300));
}
