// The costwatch dashboard: reads the API's JSON and draws its own SVG charts. No libraries, no
// network beyond this origin. Every chart has a text alternative (role="img" + <title>).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const fmt = (v) => (v === null || v === undefined ? "–" : money.format(Number(v)));
const $ = (id) => document.getElementById(id);
// A budget's use in whole percents rounded down, as costwatch_core::money::display_percent_used
// writes it in alerts: "80%" is never shown before the 80 % threshold is crossed.
const percentUsed = (p) => `${Math.floor(p + 1e-9) + 0}%`;

// --- API -------------------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  const token = sessionStorage.getItem("costwatch-token");
  if (token) headers.Authorization = "Bearer " + token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

function announce(text) {
  $("status").textContent = text;
}

// --- SVG helpers -----------------------------------------------------------------------------

function el(name, attrs = {}, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function chart(container, title, width, height) {
  container.textContent = "";
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  el("title", {}, svg).textContent = title;
  container.appendChild(svg);
  return svg;
}

const dayMs = 86400000;
const toDay = (s) => Date.parse(s + "T00:00:00Z");
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

/** Scales for a time × money chart. */
function scales(x0, x1, y1, width, height, pad) {
  const sx = (ms) => pad.l + ((ms - x0) / Math.max(x1 - x0, dayMs)) * (width - pad.l - pad.r);
  const sy = (v) => height - pad.b - (v / (y1 || 1)) * (height - pad.t - pad.b);
  return { sx, sy };
}

function axes(svg, x0, x1, y1, width, height, pad, s) {
  el("line", { class: "axis", x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b }, svg);
  for (const f of [0, 0.5, 1]) {
    const y = s.sy(y1 * f);
    el("line", { class: "axis", x1: pad.l, y1: y, x2: width - pad.r, y2: y }, svg);
    const t = el("text", { class: "axis-label", x: 2, y: y + 4 }, svg);
    // Whole dollars read best on a chart of hundreds; a scale of a few dollars (a quiet scope,
    // an empty burn-down) keeps its cents, or its midpoint would read as its top.
    t.textContent = money.format(y1 >= 20 ? Math.round(y1 * f) : y1 * f);
  }
  for (const [ms, anchor] of [[x0, "start"], [(x0 + x1) / 2, "middle"], [x1, "end"]]) {
    const t = el("text", { class: "axis-label", x: s.sx(ms), y: height - 4, "text-anchor": anchor }, svg);
    t.textContent = iso(Math.round(ms / dayMs) * dayMs);
  }
}

function path(points) {
  return points.map(([x, y], i) => (i ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1)).join(" ");
}

// --- Daily cost ------------------------------------------------------------------------------

function drawDaily(days, forecast, anomalies) {
  const width = 900, height = 300, pad = { l: 64, r: 12, t: 12, b: 24 };
  const known = days.filter((d) => d.total !== null);
  const band = forecast ? forecast.daily : [];
  const x0 = toDay(days[0].date);
  const x1 = Math.max(toDay(days[days.length - 1].date), ...band.map((p) => toDay(p.date)));
  const y1 = Math.max(...known.map((d) => Number(d.total)), ...band.map((p) => Number(p.hi80))) * 1.05;
  const spike = known.reduce((a, b) => (Number(b.total) > Number(a.total) ? b : a), known[0]);
  const svg = chart($("daily-chart"),
    `Daily organisation cost from ${days[0].date} to ${days[days.length - 1].date}; highest ${fmt(spike.total)} on ${spike.date}; ${anomalies.length} anomalies marked.`,
    width, height);
  const s = scales(x0, x1, y1, width, height, pad);
  axes(svg, x0, x1, y1, width, height, pad, s);
  if (band.length) {
    const upper = band.map((p) => [s.sx(toDay(p.date)), s.sy(Number(p.hi80))]);
    const lower = band.map((p) => [s.sx(toDay(p.date)), s.sy(Number(p.lo80))]).reverse();
    el("path", { class: "forecast-band", d: path(upper.concat(lower)) + " Z" }, svg);
    el("path", { class: "forecast-line", d: path(band.map((p) => [s.sx(toDay(p.date)), s.sy(Number(p.mean))])) }, svg);
  }
  el("path", { class: "cost-line", "data-points": known.length,
    d: path(known.map((d) => [s.sx(toDay(d.date)), s.sy(Number(d.total))])) }, svg);
  // One day of data is a point, which a path does not draw.
  if (known.length === 1) {
    el("circle", { class: "cost-point", cx: s.sx(toDay(known[0].date)), cy: s.sy(Number(known[0].total)), r: 4 }, svg);
  }
  const byDate = new Map(known.map((d) => [d.date, Number(d.total)]));
  for (const a of anomalies) {
    const at = byDate.has(a.date) ? a.date : a.start_date;
    if (!byDate.has(at)) continue;
    const c = el("circle", { class: "anomaly-marker" + (a.state === "resolved" ? " resolved" : ""),
      cx: s.sx(toDay(at)), cy: s.sy(byDate.get(at)), r: 6, "data-id": a.id }, svg);
    el("title", {}, c).textContent = `${a.label}: ${fmt(a.impact)} above expected on ${a.date} (${a.state})`;
  }
}

// --- Top movers, usage, reports --------------------------------------------------------------

function drawMovers(rows, earlierWeek) {
  const body = $("movers").tBodies[0];
  body.textContent = "";
  // A change that reads $0.00 did not move (as in the reports and /cost), and nothing moved
  // from a week before the data began.
  const moved = earlierWeek ? rows.filter((r) => Math.abs(Number(r.change)) >= 0.005) : [];
  if (!moved.length) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = 3;
    cell.textContent = earlierWeek
      ? "No service's cost changed against the 7 days before."
      : "No data for the 7 days before to compare with yet.";
  }
  for (const r of moved) {
    const tr = body.insertRow();
    tr.insertCell().textContent = r.label;
    const total = tr.insertCell();
    total.className = "num";
    total.textContent = fmt(r.total);
    const change = tr.insertCell();
    const up = Number(r.change) > 0;
    change.className = "num " + (up ? "up" : "down");
    change.textContent = (up ? "▲ +" : "▼ ") + fmt(r.change);
  }
}

function drawUsage(u) {
  const parts = u.sources.map((s) => s.text || `${s.requests} ${s.source} requests`);
  $("usage").textContent = `${u.month}: ${fmt(u.total)}` + (parts.length ? ` (${parts.join("; ")})` : " (no billed requests recorded)") +
    `. Not counted: ${u.not_counted}.`;
}

function drawReports(list) {
  const ul = $("reports");
  ul.textContent = "";
  for (const r of list.items) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = r.period === "daily" ? `/reports/${r.date}` : r.files["report.html"];
    a.textContent = `${r.period} report, ${r.date}`;
    li.appendChild(a);
    ul.appendChild(li);
  }
  if (!list.items.length) ul.textContent = "No reports archived yet.";
}

// --- Recommendations and integration health ---------------------------------------------------

function text(tag, content, className) {
  const node = document.createElement(tag);
  node.textContent = content;
  if (className) node.className = className;
  return node;
}

function drawRecommendations(page) {
  const body = $("recs").tBodies[0];
  body.textContent = "";
  for (const r of page.items) {
    const tr = body.insertRow();
    tr.dataset.id = r.id;
    // The title opens the formula and the action: <details> is keyboard-operable as it is.
    const details = document.createElement("details");
    details.appendChild(text("summary", r.title));
    details.appendChild(text("p", "Estimate: " + r.formula, "muted"));
    details.appendChild(text("p", r.action.summary));
    details.appendChild(text("code", r.action.cli));
    tr.insertCell().appendChild(details);
    tr.insertCell().textContent = r.account_name || r.account;
    const saves = tr.insertCell();
    saves.className = "num";
    saves.textContent = fmt(r.monthly_savings);
  }
  $("recs").hidden = !page.items.length;
  $("recs-total").textContent = page.items.length
    ? `${page.total_items} open, ${fmt(page.total_monthly_savings)} a month in all (no resource counted twice).`
    : "No open recommendations stored. On AWS the weekly recommend function tracks them; on this machine, costwatch recommend --track --cur FILE.";
}

function drawIntegrations(health) {
  $("integrations-window").textContent = health.window_days;
  const body = $("integrations").tBodies[0];
  body.textContent = "";
  const on = health.items.filter((i) => i.configured !== false);
  for (const i of on) {
    const tr = body.insertRow();
    tr.dataset.name = i.name;
    const name = tr.insertCell();
    name.textContent = i.name + (i.configured === null ? " (not known whether configured)" : "");
    for (const d of i.disabled) name.appendChild(text("p", `${d.destination} disabled: ${d.reason}`, "up"));
    const worst = i.failures.errors[0];
    if (worst) {
      name.appendChild(text("p", `failing to ${worst.destination} after ${worst.attempts} attempts: ${worst.error}`, "up"));
    }
    tr.insertCell().textContent = i.last_delivery
      ? `${i.last_delivery.at.slice(0, 16).replace("T", " ")} UTC to ${i.last_delivery.destination}`
      : "none";
    const failing = tr.insertCell();
    failing.className = "num" + (i.failures.failing ? " up" : "");
    failing.textContent = i.failures.failing;
    const dead = tr.insertCell();
    dead.className = "num" + (i.dead_letters ? " up" : "");
    dead.textContent = i.dead_letters === null ? "–" : i.dead_letters;
    // Why a figure is missing, in words, for everyone (not only on hover).
    const why = i.notes.filter((n) => n.startsWith("dead_letters"));
    if (why.length) {
      dead.title = why.join("; ");
      dead.appendChild(text("span", " " + why.join("; "), "visually-hidden"));
    }
  }
  $("integrations").hidden = !on.length;
  const off = health.items.filter((i) => i.configured === false).map((i) => i.name);
  $("integrations-off").textContent = (on.length ? "" : "No integration is configured. ") +
    (off.length ? `Not configured: ${off.join(", ")}.` : "");
}

// --- Budgets ---------------------------------------------------------------------------------

// Cards drawn at once; the rest are folded under one line (drawn when opened), so a hundred
// budgets do not push the anomalies below out of sight.
const SHOWN_BUDGETS = 6;

// How close a budget is to its limit: the larger of the share spent and the share forecast, as
// the reports order their budgets (crates/pipeline report.rs `risk`).
function budgetRisk(b) {
  if (b.status === "pending") return 0; // auto-adjusting, no amount yet: nothing to be at risk of
  const forecast = b.forecast_pending ? 0 : (Number(b.forecast) / Number(b.limit)) * 100;
  return Math.max(b.percent_used, forecast);
}

function drawBudgets(items, asOf) {
  const cards = $("budgets");
  const more = $("budgets-more");
  const folded = more.querySelector(".cards");
  cards.textContent = "";
  folded.textContent = "";
  more.hidden = true;
  if (!items.length) {
    cards.textContent = "No budgets configured.";
    return;
  }
  const ranked = items.slice().sort((a, b) => budgetRisk(b) - budgetRisk(a));
  for (const b of ranked.slice(0, SHOWN_BUDGETS)) cards.appendChild(drawBudget(b, asOf));
  const rest = ranked.slice(SHOWN_BUDGETS);
  if (!rest.length) return;
  more.hidden = false;
  more.open = false;
  more.querySelector("summary").textContent =
    `${rest.length} more ${rest.length === 1 ? "budget" : "budgets"}, each at most ` +
    `${percentUsed(budgetRisk(rest[0]))} of its limit spent or forecast`;
  more.ontoggle = () => {
    if (more.open && !folded.childElementCount) for (const b of rest) folded.appendChild(drawBudget(b, asOf));
  };
}

function drawBudget(b, asOf) {
  const card = document.createElement("article");
  card.className = "card";
  const h = document.createElement("h3");
  // A quarter's or a year's budget says so; a month's is what every budget was before.
  h.textContent = `${b.name} (${b.label}${b.period === "monthly" ? "" : `, ${b.period}`})`;
  const noun = { monthly: "month", quarterly: "quarter", annually: "year", daily: "day" }[b.period];
  const badge = document.createElement("span");
  badge.className = "badge " + b.status;
  badge.textContent = { ok: "on track", at_risk: "at risk", over: "over budget", pending: "no amount yet" }[b.status];
  const text = document.createElement("p");
  // Without a forecast (too little history; the note says so) `forecast` is the spend so far,
  // and "no breach expected" would be a guess.
  // A day is complete when its budget is checked: its "forecast" is what it spent.
  const forecastKnown = !b.forecast_pending && b.period !== "daily";
  const pending = b.status === "pending";
  const auto = b.auto_adjust && b.auto_adjust.basis ? ` (auto-adjusting: ${b.auto_adjust.basis})` : "";
  text.textContent = (pending ? `${fmt(b.actual)} spent so far` : `${fmt(b.actual)} of ${fmt(b.limit)}${auto} (${percentUsed(b.percent_used)})`) +
    (forecastKnown ? `, forecast ${fmt(b.forecast)}. ` : ". ") +
    (b.breach_date ? `Breach date: ${b.breach_date}. ` : forecastKnown ? `No breach expected this ${noun}. ` : "") +
    (b.allowed_daily_spend !== null ? `Allowed daily spend: ${fmt(b.allowed_daily_spend)} for ${b.days_left} days.` : "") +
    (b.note ? ` ${b.note[0].toUpperCase()}${b.note.slice(1)}` : "");
  card.append(h, badge, text);
  const holder = document.createElement("div");
  card.appendChild(holder);
  const pts = b.actual_burn.concat(b.forecast_burn);
  // A day's budget has one point to draw: its sentence says all of it.
  if (pts.length && b.period !== "daily") {
    const width = 400, height = 180, pad = { l: 64, r: 8, t: 8, b: 24 };
    const x0 = toDay(pts[0].date), x1 = toDay(pts[pts.length - 1].date);
    const y1 = Math.max(pending ? 0 : Number(b.limit), ...pts.map((p) => Number(p.cumulative))) * 1.05 || 1;
    const svg = chart(holder, `Burn-down of ${b.name}: ${noun}-to-date spend ${fmt(b.actual)}` +
      (pending ? "" : ` against a limit of ${fmt(b.limit)}`) +
      (b.breach_date ? `, passing it on ${b.breach_date}` : ""), width, height);
    const s = scales(x0, x1, y1, width, height, pad);
    axes(svg, x0, x1, y1, width, height, pad, s);
    if (!pending) el("line", { class: "limit-line", x1: pad.l, x2: width - pad.r, y1: s.sy(Number(b.limit)), y2: s.sy(Number(b.limit)) }, svg);
    const line = (list) => path(list.map((p) => [s.sx(toDay(p.date)), s.sy(Number(p.cumulative))]));
    el("path", { class: "cost-line", d: line(b.actual_burn) }, svg);
    if (b.forecast_burn.length) {
      const last = b.actual_burn[b.actual_burn.length - 1];
      el("path", { class: "forecast-line", d: line((last ? [last] : []).concat(b.forecast_burn)) }, svg);
    }
    if (b.breach_date) {
      el("circle", { class: "anomaly-marker", r: 5, cx: s.sx(toDay(b.breach_date)), cy: s.sy(Number(b.limit)) }, svg);
    }
  }
  // A daily budget's alert says what moved its day, against the same weekday a week before.
  card.appendChild(driversPanel(b.scope, asOf, b.period === "daily" ? "day" : "month"));
  return card;
}

// What moved the month (or a daily budget's day), as the budget alerts say it (/v1/drivers):
// read when opened, so a page of budgets reads no more on load than before.
function driversPanel(scope, asOf, span) {
  const panel = document.createElement("details");
  panel.className = "drivers";
  const body = document.createElement("div");
  panel.append(text("summary", `What moved the ${span}`), body);
  panel.addEventListener("toggle", async () => {
    if (!panel.open || panel.dataset.state) return;
    panel.dataset.state = "reading";
    body.textContent = "Reading…";
    try {
      const answer = await api(`/v1/drivers?scope=${encodeURIComponent(scope)}&as_of=${asOf}&span=${span}`);
      drawDrivers(body, answer.drivers, span);
      panel.dataset.state = "drawn";
    } catch (e) {
      body.textContent = "Could not load: " + e.message;
      delete panel.dataset.state;
    }
  });
  return panel;
}

// "1–20 November", "30 October–2 November", "5 November": as the alerts write a span of days.
function daySpan(from, to) {
  const day = (s) => new Date(toDay(s)).getUTCDate();
  const month = (s) => new Date(toDay(s)).toLocaleString("en-GB", { month: "long", timeZone: "UTC" });
  if (from === to) return `${day(to)} ${month(to)}`;
  if (from.slice(0, 7) === to.slice(0, 7)) return `${day(from)}–${day(to)} ${month(to)}`;
  return `${day(from)} ${month(from)}–${day(to)} ${month(to)}`;
}

const signedMoney = (v) => (Number(v) > 0 ? "+" : "") + fmt(v);

function drawDrivers(body, d, span) {
  body.textContent = "";
  if (!d) {
    body.appendChild(text("p", span === "day"
      ? "Nothing to compare yet: the same weekday a week before is not in the data, or the day has not changed."
      : "Nothing to compare yet: last month is not all in the data, or the month so far has not changed.", "muted"));
    return;
  }
  body.appendChild(text("p", `${daySpan(d.from, d.to)} against ${daySpan(d.compared_from, d.compared_to)}: ${signedMoney(d.change)}`));
  const table = document.createElement("table");
  table.createTHead().innerHTML = '<tr><th scope="col">Dimension</th><th scope="col">Value</th><th scope="col" class="num">Change</th><th scope="col" class="num">Share</th></tr>';
  const rows = table.createTBody();
  for (const c of d.causes) {
    const tr = rows.insertRow();
    tr.insertCell().textContent = c.dimension;
    // A value-less tag or cost category is the spend without one, as the alerts' table says.
    tr.insertCell().textContent = c.value || (c.dimension.startsWith("cost_category:") ? "(uncategorised)" : "(untagged)");
    for (const v of [signedMoney(c.contribution), `${Math.round(c.share * 100)}%`]) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = v;
    }
  }
  body.appendChild(table);
}

// --- Allocation ------------------------------------------------------------------------------

// One card per tag key and cost category, as /v1/costs/allocation ranks them (tags first): its
// largest values this month with their share, the rest in one row, and the untagged row —
// what showback cannot assign.
function drawAllocation(allocation) {
  const cards = $("allocation");
  cards.textContent = "";
  if (!allocation.items.length) {
    cards.textContent = "No tag or cost category in this month's costs. Activate cost allocation tags " +
      "in the Billing console and list them in CeTagKeys to see spend by team.";
    return;
  }
  for (const k of allocation.items) cards.appendChild(drawAllocationCard(k, allocation.start));
}

function drawAllocationCard(k, monthStart) {
  const card = document.createElement("article");
  card.className = "card";
  card.dataset.key = k.unallocated.scope;
  card.appendChild(text("h3", k.label));
  const share = (pct) => (pct === null ? "–" : `${pct.toFixed(1)}%`);
  const complete = Math.abs(Number(k.unallocated.amount)) < 0.005;
  card.appendChild(text("p", complete
    ? `Since ${monthStart}, every cost carries it.`
    : `Since ${monthStart}, ${share(k.coverage_pct)} of the spend carries it; ${fmt(k.unallocated.amount)} is ${k.missing}.`, "coverage"));
  const table = document.createElement("table");
  table.createTHead().innerHTML = '<tr><th scope="col">Value</th><th scope="col" class="num">Month to date</th><th scope="col" class="num">Share</th></tr>';
  const body = table.createTBody();
  const row = (label, line, className) => {
    const tr = body.insertRow();
    if (className) tr.className = className;
    tr.insertCell().textContent = label;
    for (const c of [fmt(line.amount), share(line.share_pct)]) {
      const td = tr.insertCell();
      td.className = "num";
      td.textContent = c;
    }
  };
  for (const v of k.values) row(v.value, v);
  if (k.rest) row(`${k.rest.values} more ${k.rest.values === 1 ? "value" : "values"}`, k.rest, "rest");
  if (!complete) row(`(${k.missing})`, k.unallocated, "unallocated");
  card.appendChild(table);
  return card;
}

// --- Anomalies -------------------------------------------------------------------------------

function stateText(a) {
  const bits = [a.state];
  if (a.acknowledged) bits.push("acknowledged " + a.acknowledged.at.slice(0, 10));
  if (a.snoozed_until) bits.push("snoozed until " + a.snoozed_until);
  if (a.feedback) bits.push(a.feedback === "expected" ? "marked expected" : "marked not an anomaly");
  return bits.join(" · ");
}

function addDays(n) {
  return iso(Date.now() + n * dayMs);
}

function drawAnomaly(li, a) {
  const kept = li.querySelector(".anomaly-chart");
  li.textContent = "";
  li.dataset.id = a.id;
  const h = document.createElement("h3");
  h.textContent = `${a.label}: ${fmt(a.impact)} ${a.direction === "fall" ? "below" : "above"} expected`;
  const meta = document.createElement("p");
  meta.className = "muted";
  const cause = a.top_cause ? ` Root cause: ${a.top_cause.dimension} ${a.top_cause.value} (${fmt(a.top_cause.contribution)}, ${Math.round(a.top_cause.share * 100)} %).` : "";
  meta.textContent = `Since ${a.start_date}, latest ${a.date}: ${fmt(a.actual)} against ${fmt(a.expected)} expected.${cause}`;
  const state = document.createElement("p");
  state.className = "state-line";
  state.tabIndex = -1;
  state.textContent = "State: " + stateText(a);
  const actions = document.createElement("div");
  actions.className = "actions";
  actions.setAttribute("role", "group");
  actions.setAttribute("aria-label", "Actions on " + a.label);
  const act = (label, verb, body, done) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.action = verb;
    b.disabled = done;
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const updated = await api(`/v1/anomalies/${encodeURIComponent(a.id)}/${verb}`, { method: "POST", body });
        drawAnomaly(li, updated);
        announce(`${a.label}: ${stateText(updated)}`);
        // The pressed button may now be disabled: keep the keyboard in this anomaly.
        (li.querySelector("button:enabled") || li.querySelector(".state-line")).focus();
      } catch (e) {
        b.disabled = false;
        announce(`Could not ${label.toLowerCase()}: ${e.message}`);
      }
    });
    actions.appendChild(b);
  };
  act("Acknowledge", "acknowledge", {}, Boolean(a.acknowledged));
  act("Snooze 7 days", "snooze", { until: addDays(7) }, Boolean(a.snoozed_until));
  act("Expected", "feedback", { verdict: "expected" }, Boolean(a.feedback));
  act("Not an anomaly", "feedback", { verdict: "not-an-anomaly" }, Boolean(a.feedback));
  li.append(h, meta);
  if (kept) li.appendChild(kept);
  li.append(state, actions);
}

/** The anomaly's own scope, 30 days before it began to its latest day, the anomaly marked. */
function drawAnomalySeries(holder, d) {
  const days = d.series.filter((p) => p.total !== null);
  if (days.length < 2) return;
  const width = 600, height = 160, pad = { l: 64, r: 8, t: 8, b: 24 };
  const x0 = toDay(days[0].date), x1 = toDay(days[days.length - 1].date);
  const y1 = Math.max(...days.map((p) => Number(p.total)), Number(d.upper)) * 1.05;
  const svg = chart(holder, `${d.label}: daily cost from ${days[0].date} to ${days[days.length - 1].date}; ` +
    `${fmt(d.actual)} on ${d.date} against ${fmt(d.expected)} expected.`, width, height);
  const s = scales(x0, x1, y1, width, height, pad);
  axes(svg, x0, x1, y1, width, height, pad, s);
  el("path", { class: "cost-line", d: path(days.map((p) => [s.sx(toDay(p.date)), s.sy(Number(p.total))])) }, svg);
  const at = days.find((p) => p.date === d.date);
  if (at) {
    const c = el("circle", { class: "anomaly-marker", r: 6, "data-id": d.id,
      cx: s.sx(toDay(at.date)), cy: s.sy(Number(at.total)) }, svg);
    el("title", {}, c).textContent = `${d.date}: ${fmt(at.total)}`;
  }
}

async function drawAnomalies(list) {
  const ul = $("anomalies");
  ul.textContent = "";
  const details = await Promise.all(list.map((a) => api(`/v1/anomalies/${encodeURIComponent(a.id)}`)));
  details.forEach((d, i) => {
    const li = document.createElement("li");
    drawAnomaly(li, list[i]);
    const holder = document.createElement("div");
    holder.className = "chart anomaly-chart";
    li.insertBefore(holder, li.querySelector(".state-line"));
    drawAnomalySeries(holder, d);
    ul.appendChild(li);
  });
  if (!list.length) ul.textContent = "No open anomalies.";
}

// --- Load ------------------------------------------------------------------------------------

async function load() {
  const forecasts = await api("/v1/forecasts");
  const asOf = forecasts.as_of;
  if (!asOf) {
    $("as-of").textContent = "No cost data yet: run the pipeline (costwatch demo, costwatch run).";
    return;
  }
  $("as-of").textContent = `Data up to ${asOf}.`;
  const start = iso(toDay(asOf) - 89 * dayMs);
  const week = iso(toDay(asOf) - 6 * dayMs);
  const [costs, marked, open, movers, budgets, usage, reports, recs, health, allocation] = await Promise.all([
    api(`/v1/costs?scope=org&start=${start}&end=${asOf}&limit=1000`),
    api(`/v1/anomalies?state=all&since=${start}&limit=1000`),
    api("/v1/anomalies?state=active&limit=50"),
    api(`/v1/costs/breakdown?kind=service&sort=change&start=${week}&end=${asOf}&limit=5`),
    api("/v1/budgets"),
    api("/v1/usage"),
    api("/v1/reports?limit=5"),
    api("/v1/recommendations?limit=10"),
    api("/v1/integrations"),
    api(`/v1/costs/allocation?as_of=${asOf}`),
  ]);

  const org = forecasts.items.find((f) => f.scope === "org");
  drawDaily(costs.items, org, marked.items);
  const earlier = [iso(toDay(asOf) - 13 * dayMs), iso(toDay(asOf) - 7 * dayMs)];
  drawMovers(movers.items, costs.items.some((d) => d.total !== null && d.date >= earlier[0] && d.date <= earlier[1]));
  drawUsage(usage);
  drawReports(reports);
  drawRecommendations(recs);
  drawIntegrations(health);
  drawBudgets(budgets.items, budgets.as_of);
  drawAllocation(allocation);
  await drawAnomalies(open.items);
  document.body.dataset.loaded = "true";
}

async function start() {
  try {
    await load();
  } catch (e) {
    if (e instanceof Unauthorized) {
      const form = $("token-form");
      form.hidden = false;
      $("token").focus();
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        sessionStorage.setItem("costwatch-token", $("token").value);
        form.hidden = true;
        start();
      }, { once: true });
      $("as-of").textContent = "Sign in to see costs.";
    } else {
      $("as-of").textContent = "Could not load: " + e.message;
    }
  }
}

document.addEventListener("DOMContentLoaded", start);
