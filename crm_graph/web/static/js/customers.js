// Customers (Putler): period KPIs with the previous period and the new/returning/lost chart; the
// customer table with search, facets, filters, sort and pagination; saved segments; bulk actions
// (export, consent, erase) that run as background jobs, followed to completion. One request for the
// screen (`periodKpis`, `customers` with facets, `segments`, `jobs`); mutations and job polling on use.
// A mutation's input error (a member of its result union) shows next to the control that sent it.

import { gql, mutate, USER_ERROR } from "./api.js";
import { fill, h, panel, empty, dataTable } from "./dom.js";
import { barChart, lineChart } from "./charts.js";
import { num, pct, cur, amount, day, instant, instantDay, change, titleCase } from "./format.js";
import { FIRST_PAGE, confirmAction, rangeVariables, setParams, showRange, toast, useStore } from "./main.js";

const PAGE = 25;
/** Saved segments listed (the newest first; the API pages them). */
const SEGMENTS = 50;
const COUNT = "{ value previous change relativeChange }";
const MONEY = "{ amount currencyCode }";
const MONEY_COUNT = `{ value ${MONEY} previous ${MONEY} change ${MONEY} relativeChange }`;
const PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";
const JOB = "id kind status error createdAt finishedAt progress { done total fraction } counts { name value } download { url expiresAt }";
export const QUERY = `
query CustomersScreen($range: DateRange, $preset: DatePreset, $filter: CustomerFilter, $sort: CustomerSort!,
                      $direction: SortDirection!, $first: Int, $after: String, $last: Int, $before: String) {
  store { name timezone currencyCode customerCount }
  periodKpis(range: $range, preset: $preset, granularity: DAY) {
    range { from to days } previousRange { from to days } freshness { computedAt source cached }
    customers ${COUNT} newCustomers ${COUNT} returningCustomers ${COUNT} lostCustomers ${COUNT} orders ${COUNT}
    netRevenue ${MONEY_COUNT} averageOrderValue ${MONEY_COUNT} averageRevenuePerCustomer ${MONEY_COUNT}
    series { label customers newCustomers revenue ${MONEY} orders }
  }
  customers(filter: $filter, sort: $sort, direction: $direction, first: $first, after: $after, last: $last, before: $before) {
    totalCount ${PAGE_INFO}
    nodes { id email phone firstName lastName country totalSpent ${MONEY} ordersCount createdAt lastOrderAt identities { source crmId } }
    facets {
      countries(limit: 8) { value label count }
      products(limit: 8) { value label count }
      revenueBands { value label count }
      customerSince { value label count }
    }
  }
  segments(first: ${SEGMENTS}) { totalCount nodes { id name memberCount lastComputedAt computing lastError } }
  jobs(first: 6) { nodes { ${JOB} } }
}`;

const SORTS = [["CREATED", "Created"], ["NAME", "Name"], ["LAST_ORDER", "Last order"], ["TOTAL_SPENT", "Total spent"], ["ID", "ID"]];
const list = (params, name) => (params.get(name) ? params.get(name).split(",").filter(Boolean) : []);
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

/** The page of the URL: the `PAGE` rows after the cursor `after` (or the first ones), or, going back,
 * the `PAGE` rows before the cursor `before`. */
export function pageOf(params) {
  if (params.get("before")) return { first: null, after: null, last: PAGE, before: params.get("before") };
  return { first: PAGE, after: params.get("after") || null, last: null, before: null };
}

export function variables(params) {
  return {
    ...rangeVariables(params), filter: filterOf(params), sort: params.get("sort") || "CREATED",
    direction: params.get("dir") || "DESC", ...pageOf(params),
  };
}

export async function render({ main, params, isCurrent }) {
  const vars = variables(params);
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
    // A count comparison has numbers, a money comparison Money (null when undefined: ÷ 0).
    const isMoney = format === cur;
    const delta = isMoney ? amount(figure.change) : figure.change;
    const direction = delta > 0 ? "up" : delta < 0 ? "down" : "flat";
    // Green is good news: for lost customers, that is fewer of them.
    const tone = direction === "flat" ? "" : (direction === "up") !== Boolean(fewerIsBetter) ? "good" : "bad";
    return h("article", { class: "kpi", "data-testid": testid,
      "data-value": (isMoney ? figure.value?.amount : figure.value) ?? "", "data-currency": isMoney ? figure.value?.currencyCode : null },
      h("h3", {}, label), h("p", { class: "kpi-value" }, format(figure.value)),
      h("p", { class: `kpi-change ${direction} ${tone}` },
        h("span", { class: "sr-only" }, direction === "up" ? "Up " : direction === "down" ? "Down " : "No change "),
        !isMoney ? change(delta, figure.relativeChange)
          : `${delta > 0 ? "▲ +" : delta < 0 ? "▼ " : "■ "}${cur(figure.change)}${figure.relativeChange === null ? "" : ` (${pct(figure.relativeChange)})`}`,
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
        setParams({ [name]: next.join(","), ...FIRST_PAGE });
      } }), v.label, h("span", { class: "num" }, num(v.count)));
    }) : h("p", { class: "muted" }, "–"));
  return panel({ title: "Facets", id: "facets", body: h("div", { class: "facets" },
    group("Country", "country", facets.countries), group("Product", "product", facets.products),
    group("Revenue band", "band", facets.revenueBands), group("Customer since", "since", facets.customerSince)) });
}

/** A line for a mutation's input error, next to the controls that sent it (empty and hidden until one). */
function errorLine(testid) {
  return h("p", { class: "form-error error", role: "alert", "data-testid": testid, hidden: true });
}

/** Show `error` in `line`: an input error of the API (InputError) or any other failure; marks the
 * control of the input at fault (its `field` path ends with the control's name) as invalid. */
function showError(line, error, controls = {}) {
  line.textContent = error.message;
  line.hidden = false;
  const name = error.field ? error.field[error.field.length - 1] : null;
  for (const [key, control] of Object.entries(controls)) control.setAttribute("aria-invalid", String(key === name));
}

function clearError(line, controls = {}) {
  line.textContent = "";
  line.hidden = true;
  for (const control of Object.values(controls)) control.removeAttribute("aria-invalid");
}

function segmentsPanel(segments, filter, params) {
  const nameInput = h("input", { type: "text", placeholder: "Segment name", "aria-label": "Name of the new segment" });
  const problem = errorLine("segment-error");
  const controls = { name: nameInput };
  const save = async () => {
    clearError(problem, controls);
    if (!filter) {
      showError(problem, { message: "Choose a filter first: a segment is a saved filter." });
      return;
    }
    if (!nameInput.value.trim()) {
      showError(problem, { message: "Name the segment first.", field: ["input", "name"] }, controls);
      return;
    }
    const { segmentId, ...rest } = filter;
    try {
      const result = await mutate(`mutation($input: SegmentInput!) { segmentCreate(input: $input) {
        __typename ... on Segment { id name } ${USER_ERROR} } }`, { input: { name: nameInput.value.trim(), filter: rest } }, "segmentCreate");
      toast(`Segment “${result.name}” saved.`);
      setParams({ segment: result.id, ...FIRST_PAGE });
    } catch (error) {
      showError(problem, error, controls);
    }
  };
  const items = segments.nodes.length ? h("ul", { class: "jobs" }, segments.nodes.map((segment) => h("li", { "data-testid": `segment-${segment.id}` },
    h("button", { type: "button", class: "link", "aria-pressed": String(params.get("segment") === segment.id),
      onclick: () => setParams({ segment: params.get("segment") === segment.id ? null : segment.id, ...FIRST_PAGE }) }, segment.name),
    h("span", { class: "num" }, segment.memberCount === null ? "not counted" : num(segment.memberCount)),
    h("small", { class: "muted" }, segment.computing ? "counting…" : segment.lastError ? `error: ${segment.lastError}`
      : segment.lastComputedAt ? `counted ${instant(segment.lastComputedAt)}` : "never counted")))) : empty("No saved segments yet.");
  const more = segments.totalCount > segments.nodes.length
    ? h("p", { class: "muted" }, `and ${num(segments.totalCount - segments.nodes.length)} more (the API lists them all).`) : null;
  return panel({ title: "Saved segments", id: "segments", body: h("div", {}, items, more,
    h("div", { class: "toolbar" }, nameInput, h("button", { type: "button", onclick: save }, "Save filter as segment")), problem) });
}

function filterChips(params) {
  const chips = [];
  const add = (label, names) => chips.push(h("button", { type: "button", class: "chip", "aria-label": `Remove filter ${label}`,
    onclick: () => setParams(Object.fromEntries([...names, "after", "before"].map((n) => [n, null]))) }, `${label} ✕`));
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
  search.addEventListener("keydown", (e) => e.key === "Enter" && setParams({ q: search.value.trim(), ...FIRST_PAGE }));
  const consent = h("select", { "aria-label": "Email consent", onchange: (e) => setParams({ email: e.target.value, ...FIRST_PAGE }) },
    [["", "Any email consent"], ["SUBSCRIBED", "Email subscribed"], ["UNSUBSCRIBED", "Email unsubscribed"], ["UNKNOWN", "Email unknown"]]
      .map(([value, text]) => h("option", { value, selected: (params.get("email") || "") === value }, text)));
  const identified = h("select", { "aria-label": "Identified", onchange: (e) => setParams({ identified: e.target.value, ...FIRST_PAGE }) },
    [["", "Identified or not"], ["yes", "Identified"], ["no", "Unidentified"]]
      .map(([value, text]) => h("option", { value, selected: (params.get("identified") || "") === value }, text)));
  const spent = h("input", { type: "number", min: "0", step: "any", value: params.get("spentMin") || "", placeholder: "Spent at least", "aria-label": "Spent at least" });
  spent.addEventListener("change", () => setParams({ spentMin: spent.value, ...FIRST_PAGE }));
  const sort = h("select", { "aria-label": "Sort by", onchange: (e) => setParams({ sort: e.target.value, ...FIRST_PAGE }) },
    SORTS.map(([value, text]) => h("option", { value, selected: vars.sort === value }, text)));
  const direction = h("button", { type: "button", "aria-label": `Sort direction: ${vars.direction === "DESC" ? "descending" : "ascending"}`,
    onclick: () => setParams({ dir: vars.direction === "DESC" ? "ASC" : "DESC", ...FIRST_PAGE }) }, vars.direction === "DESC" ? "↓" : "↑");

  selected = new Set();
  const count = h("span", { class: "muted", "data-testid": "total-count", "data-value": connection.totalCount },
    `${num(connection.totalCount)} customers`);
  const rows = connection.nodes.map((c) => {
    const who = [c.firstName, c.lastName].filter(Boolean).join(" ") || c.email || c.phone || "anonymous customer";
    return h("tr", { "data-id": c.id },
      h("td", {}, h("input", { type: "checkbox", "aria-label": `Select ${who}`, onchange: (e) => {
        if (e.target.checked) selected.add(c.id); else selected.delete(c.id);
      } })),
      // The global id is opaque (and long): the link opens the customer, whose 360 shows the id.
      h("td", {}, h("a", { title: c.id, "aria-label": `Customer 360 of ${who}`,
        href: `#/customer/${encodeURIComponent(c.id)}${location.hash.includes("?") ? `?${location.hash.split("?")[1]}` : ""}` }, "Open")),
      h("td", {}, c.identities.map((i) => i.crmId).join(", ") || "–"),
      h("td", {}, c.email || "–"), h("td", {}, c.phone || "–"),
      h("td", {}, [c.firstName, c.lastName].filter(Boolean).join(" ") || "–"),
      h("td", {}, c.country || "–"), h("td", { class: "num" }, num(c.ordersCount)), h("td", { class: "num" }, cur(c.totalSpent)),
      h("td", {}, instantDay(c.createdAt)));
  });
  const table = connection.nodes.length ? h("div", { class: "table-wrap" }, h("table", { class: "data", "data-testid": "customer-table" },
    h("thead", {}, h("tr", {}, ["", "Profile", "CRM ID", "Email", "Phone", "Name", "Country", "Orders", "Spent", "Created"]
      .map((c, i) => h("th", { scope: "col", class: i >= 7 && i <= 8 ? "num" : null }, c)))),
    h("tbody", {}, rows))) : empty("No customer matches these filters.");
  const page = connection.pageInfo;
  const pager = h("div", { class: "pager" },
    h("button", { type: "button", disabled: !page.hasPreviousPage, "data-testid": "previous-page",
      onclick: () => setParams({ before: page.startCursor, after: null }) }, "← Previous"),
    h("button", { type: "button", disabled: !page.hasNextPage, "data-testid": "next-page",
      onclick: () => setParams({ after: page.endCursor, before: null }) }, "Next →"));
  const problem = errorLine("bulk-error");
  const bulk = h("div", { class: "toolbar", "aria-label": "Bulk actions", role: "group" },
    h("strong", {}, "Selected rows, or else everyone matching: "),
    h("button", { type: "button", "data-testid": "export", onclick: () => bulkExport(vars.filter, problem) }, "Export CSV"),
    consentControls(vars.filter, problem),
    h("button", { type: "button", class: "danger", "data-testid": "erase", onclick: () => bulkErase(vars.filter, connection.totalCount, problem) }, "Erase…"));
  return panel({ title: "Customer list", id: "customers", body: h("div", {},
    h("div", { class: "toolbar" }, search, consent, identified, spent, sort, direction, count),
    filterChips(params), table, pager, bulk, problem) });
}

function target(filter) {
  if (selected.size) return { ids: [...selected], filter: null, all: false };
  return filter ? { ids: null, filter, all: false } : { ids: null, filter: null, all: true };
}

/** Show a failed bulk action in place: "<what> failed: <the API's message>". */
function bulkFailed(problem, what, error) {
  showError(problem, { message: `${what} failed: ${error.message}`, field: error.field || null });
}

async function bulkExport(filter, problem) {
  clearError(problem);
  try {
    const job = await mutate(`mutation($filter: CustomerFilter) { customersExport(filter: $filter) {
      __typename ... on Job { ${JOB} } ${USER_ERROR} } }`, { filter }, "customersExport");
    follow(job);
  } catch (error) {
    bulkFailed(problem, "Export", error);
  }
}

function consentControls(filter, problem) {
  const channel = h("select", { "aria-label": "Consent channel" }, h("option", { value: "EMAIL" }, "Email"), h("option", { value: "SMS" }, "SMS"));
  const state = h("select", { "aria-label": "Consent state" },
    ["SUBSCRIBED", "UNSUBSCRIBED", "NOT_SUBSCRIBED"].map((v) => h("option", { value: v }, titleCase(v))));
  const apply = async () => {
    clearError(problem);
    try {
      const result = await mutate(`mutation($channel: Channel!, $state: ConsentState!, $ids: [ID!], $filter: CustomerFilter, $all: Boolean!) {
        customersConsentSet(channel: $channel, state: $state, ids: $ids, filter: $filter, all: $all, reason: "dashboard bulk action") {
          __typename ... on BulkChange { changed job { ${JOB} } } ${USER_ERROR} } }`,
      { channel: channel.value, state: state.value, ...target(filter) }, "customersConsentSet");
      if (result.job) follow(result.job); else toast(`Consent set for ${num(result.changed)} customers.`);
    } catch (error) {
      bulkFailed(problem, "Consent change", error);
    }
  };
  return h("span", { class: "toolbar" }, channel, state, h("button", { type: "button", onclick: apply }, "Set consent"));
}

async function bulkErase(filter, total, problem) {
  clearError(problem);
  const which = target(filter);
  const howMany = which.ids ? which.ids.length : total;
  const sure = await confirmAction("Erase customers?",
    `This erases the personal data of ${num(howMany)} customer${howMany === 1 ? "" : "s"} (GDPR erasure). It cannot be undone.`, "Erase");
  if (!sure) return;
  try {
    const result = await mutate(`mutation($ids: [ID!], $filter: CustomerFilter, $all: Boolean!) {
      customersErase(ids: $ids, filter: $filter, all: $all) {
        __typename ... on BulkChange { changed job { ${JOB} } } ${USER_ERROR} } }`, which, "customersErase");
    if (result.job) follow(result.job); else toast(`${num(result.changed)} customers erased.`);
  } catch (error) {
    bulkFailed(problem, "Erasure", error);
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
