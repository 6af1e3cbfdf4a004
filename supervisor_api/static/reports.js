/* Tablero history reports. Charts: vendored uPlot (static/vendor/uplot). Tolerant of missing keys.
 *
 * Requests (Authorization: Bearer <token>; token from ?token= or localStorage "tablero.token"):
 *   GET /api/v1/reports/{queues,conversations,agents}?from=YYYY-MM-DD&to=YYYY-MM-DD
 *       &by=15m|hour|day|week&tz=<IANA>[&queue=<q>][&channel=<c>][&agent=<a>][&tag=<t>][&format=csv]
 *   `from` is the first day and `to` the LAST day shown (pipeline/history/reports.py: a date `to` is
 *   inclusive), both local dates in `tz`.
 * Shapes (pipeline/history/reports.py):
 *   queues        {rows: [{queue, channel, start (ISO, tz offset), offered, answered, abandoned,
 *                  short_abandoned, answered_within_sl, asa_s, aht_s, service_level}], total: {...}}
 *   conversations flat headline keys (conversations, customers, first_response_s {mean,p50,p90,count},
 *                  csat {mean, good_share, ratings}, ...), response_time_buckets / handle_time_buckets
 *                  {label: count}, busiest [{weekday 1=Mon, hour, conversations}],
 *                  tags [{tag, conversations}], previous {from, to, ...headline}
 *   agents        {rows: [{agent, handled, replies, closed, closed_without_reply, handle_s, aht_s,
 *                  first_response_s, customers, csat {mean, good_share, ratings}}]}
 * The previous period of the interval totals comes from a second queues request (same length,
 * immediately before, by=day).
 * Drill-down: GET /api/v1/definitions gives each figure's tooltip and the list behind it. Every
 * figure links to /contacts?<the report's filters>&<the figure's list parameters>: cards (a
 * business-hours twin opens its calendar twin's list: the same contacts), interval-table cells,
 * volume- and SL-chart points, buckets (table rows and chart bars: response_bucket / handle_bucket),
 * busiest-times cells (weekday, hour), tags and every staff-table cell (agent, final_agent and the
 * cell's flag). A count's list has the figure as its total; a mean's or a rate's list holds the
 * contacts it is computed from (a rate: its numerator); a response bucket counts responses, which
 * the list shows as its `responses`. Not linked: the staff table's "replies" (counted from the
 * events log when each reply was sent, not per contact created in the range).
 */
(function () {
  "use strict";

  const TOKEN_KEY = "tablero.token";
  const params = new URLSearchParams(location.search);
  const { $, el } = window.TableroDom;
  const isNum = (x) => typeof x === "number" && isFinite(x);
  const num = (x) => isNum(x) ? x : 0;
  const arr = (x) => Array.isArray(x) ? x : [];
  const obj = (x) => (x && typeof x === "object" && !Array.isArray(x)) ? x : {};

  let token = params.get("token") || localStorage.getItem(TOKEN_KEY) || "";
  if (params.get("token")) localStorage.setItem(TOKEN_KEY, params.get("token"));
  const data = { queues: null, conversations: null, agents: null };
  const charts = {};
  const tables = {};   // name -> {columns, rows, sortKey, sortDir}
  let loadSeq = 0;

  // ---- formatting ---------------------------------------------------------------------------
  function fmtDuration(s) {
    if (!isNum(s)) return "–";
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(Math.round(s % 60)).padStart(2, "0") + "s";
    if (s < 86400) return Math.floor(s / 3600) + "h " + String(Math.round((s % 3600) / 60)).padStart(2, "0") + "m";
    return (s / 86400).toFixed(1) + "d";
  }
  const fmtPct = (x) => isNum(x) ? (x * 100).toFixed(1) + "%" : "–";
  const fmtInt = (x) => isNum(x) ? Math.round(x).toLocaleString() : "–";
  const fmtNum = (x) => isNum(x) ? (Number.isInteger(x) ? x.toLocaleString() : x.toFixed(2)) : (x === null || x === undefined ? "–" : String(x));
  const label = (k) => /^(csat|asa_s|aht_s)$/.test(k) ? k.replace(/_s$/, "").toUpperCase() : k.replace(/_s$/, "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  function fmtFor(key, v) {
    if (/_s$/.test(key)) return fmtDuration(v);
    if (/(service_level|rate|share|compliance)/.test(key) && isNum(v) && v <= 1) return fmtPct(v);
    if (key === "csat" || key === "csat_mean") return isNum(v) ? v.toFixed(2) : "–";  // mean score 1–5
    if (/per_(day|customer|conversation)/.test(key)) return isNum(v) ? v.toLocaleString(undefined, { maximumFractionDigits: 1 }) : "–";
    if (Number.isInteger(v)) return fmtInt(v);
    return fmtNum(v);
  }
  function toEpoch(v) {
    if (isNum(v)) return v > 1e12 ? v / 1000 : v;
    if (typeof v === "string") { const t = Date.parse(v); return isNaN(t) ? null : t / 1000; }
    return null;
  }

  // ---- dates / controls ---------------------------------------------------------------------
  const defaultTz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  function localDate(d, tz) {
    try { return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(d); }
    catch (e) { return d.toISOString().slice(0, 10); }
  }
  function addDays(ymd, n) {
    const d = new Date(ymd + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function applyPreset(p) {
    const tz = $("tz").value || defaultTz;
    const today = localDate(new Date(), tz);
    for (const b of $("presets").querySelectorAll("button")) b.classList.toggle("active", b.dataset.preset === p);
    if (p === "custom") { $("from").focus(); return false; }
    const days = p === "today" ? 1 : Number(p);
    $("from").value = addDays(today, -(days - 1));
    $("to").value = today;
    $("by").value = days === 1 ? "15m" : days <= 7 ? "hour" : "day";
    return true;
  }

  function daysBetween(a, b) {
    return Math.round((Date.parse(b + "T00:00:00Z") - Date.parse(a + "T00:00:00Z")) / 86400000);
  }

  function query(extra) {
    const p = new URLSearchParams();
    p.set("from", $("from").value);
    p.set("to", $("to").value || $("from").value);  // inclusive: the last day shown
    p.set("by", $("by").value);
    p.set("tz", $("tz").value || defaultTz);
    for (const k of ["queue", "channel", "agent", "tag"]) {
      const v = $(k).value.trim();
      if (v) p.set(k, v);
    }
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    return p;
  }

  // the period of the same length immediately before (whole days, like pipeline/history/reports.py)
  function previousRange() {
    const from = $("from").value, to = $("to").value || from;
    const n = daysBetween(from, to) + 1;
    return { from: addDays(from, -n), to: addDays(from, -1) };
  }

  function syncUrl() {
    const p = query();
    const preset = $("presets").querySelector("button.active");
    if (preset) p.set("range", preset.dataset.preset);
    history.replaceState(null, "", location.pathname + "?" + p.toString());
  }

  // ---- drill-down: every figure opens the contacts behind it (/contacts, GET /api/v1/contacts) ----
  // definitions (GET /api/v1/definitions): tooltips, and the list parameters behind each figure
  let defs = {};
  async function loadDefinitions() {
    try {
      const res = await fetch("/api/v1/definitions", { headers: { Authorization: "Bearer " + token } });
      if (res.ok) for (const m of arr(obj(await res.json()).metrics)) defs[m.key] = m;
    } catch (e) { /* tooltips are optional */ }
  }
  // card key -> definitions key (a ratio opens the list of the contacts it is computed from)
  const DEF_OF = { conversations_per_day: "conversations", conversations_per_customer: "customers",
    replies_per_conversation: "closed",
    // business-hours twins: the same contacts, counted on the business clock
    asa_business_s: "asa_s", aht_business_s: "aht_s", first_response_business_s: "first_response_s",
    response_time_business_s: "response_time_s", handle_time_business_s: "handle_time_s",
    resolution_time_business_s: "resolution_time_s" };
  const defFor = (key) => defs[DEF_OF[key] || key] || null;
  function tip(key) {
    const d = defFor(key);
    return d ? d.label + ": " + d.formula + ". Counted at " + d.counted_at + "." + (d.excludes ? " Excludes " + d.excludes + "." : "") : null;
  }
  // the list behind a figure: the report's filters, narrowed by `extra` (e.g. {outcome: "abandoned"})
  function drillUrl(extra, metric, labelText) {
    const p = query();
    p.delete("by");
    for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
    if (metric) p.set("metric", metric);
    if (labelText) p.set("label", labelText);
    return "/contacts?" + p.toString();
  }
  const CELL_LIST = { offered: {}, answered: { outcome: "answered" }, abandoned: { outcome: "abandoned" },
    short_abandoned: { outcome: "short_abandoned" }, answered_within_sl: { within_sl: "true" },
    // a mean or a rate opens the contacts it is computed from (its numerator for the service level)
    asa_s: { outcome: "answered" }, aht_s: { outcome: "aht_counted" }, service_level: { within_sl: "true" },
    asa_business_s: { outcome: "answered" }, aht_business_s: { outcome: "aht_counted" } };
  // a bucket's list: the contacts whose value falls in it (its label is the parameter)
  const bucketUrl = (kind, bucket) => drillUrl(kind === "response time" ? { response_bucket: bucket } : { handle_bucket: bucket },
    kind === "response time" ? "response_time_s" : "handle_time_s", (kind === "response time" ? "Response time " : "Handle time ") + bucket);
  // a busiest-times cell: the contacts created in that weekday and hour (report time zone)
  const cellUrl = (weekday, hour) => drillUrl({ weekday: String(weekday), hour: String(hour) }, "conversations",
    WEEKDAYS[weekday - 1] + " " + hour + ":00");
  // a staff-table cell: the contacts it counts (or the mean is computed over). "handled" and
  // "customers" count every agent who worked a contact; the rest the contact's final agent.
  const AGENT_LIST = { handled: {}, customers: {}, closed: { outcome: "closed" },
    closed_without_reply: { closed_without_reply: "true" }, handle_s: { has_handle_time: "true" },
    aht_s: { has_handle_time: "true" }, handle_business_s: { has_handle_time: "true" },
    aht_business_s: { has_handle_time: "true" }, first_response_s: { first_response_s_gte: "0" },
    first_response_business_s: { first_response_s_gte: "0" }, csat: { rated: "true" },
    csat_ratings: { rated: "true" }, csat_good_share: { rated_good: "true" } };
  function agentUrl(key, r, title) {
    const list = AGENT_LIST[key];
    if (!list || !r.agent) return null;
    const extra = Object.assign({ agent: r.agent }, key === "handled" || key === "customers" ? {} : { final_agent: r.agent }, list);
    const metric = { closed: "closed", handle_s: "handle_time_s", aht_s: "aht_s", handle_business_s: "handle_time_s",
      aht_business_s: "aht_s", first_response_s: "first_response_s", first_response_business_s: "first_response_s",
      csat: "csat", csat_ratings: "csat", csat_good_share: "csat" }[key] || "conversations";
    return drillUrl(extra, metric, title + " · " + r.agent);
  }

  // ---- fetching -----------------------------------------------------------------------------
  async function api(kind, extra) {
    const res = await fetch("/api/v1/reports/" + kind + "?" + query(extra), {
      headers: { Authorization: "Bearer " + token, Accept: extra && extra.format === "csv" ? "text/csv" : "application/json" },
    });
    if (res.status === 401 || res.status === 403) {
      askToken(res.status === 401 ? "The token was not accepted." : "This token cannot read reports.");
      throw new Error(res.status === 401 ? "not authorised" : "forbidden");
    }
    if (!res.ok) {
      let why = "HTTP " + res.status;
      try {
        const body = await res.json();
        const d = body && body.detail;
        if (d && typeof d === "object" && d.reason) why += ": " + (d.param ? d.param + ": " : "") + d.reason;
        else if (typeof d === "string") why += ": " + d;
      } catch (e) { /* not JSON */ }
      throw new Error(why);
    }
    return res;
  }

  async function load() {
    if (!token) { askToken(""); return; }
    const seq = ++loadSeq;
    const defsReady = Object.keys(defs).length ? Promise.resolve() : loadDefinitions();
    syncUrl();
    $("load-status").textContent = "Loading…";
    document.body.dataset.loaded = "";
    const kinds = ["queues", "conversations", "agents"];
    const prev = previousRange();
    const prevReq = api("queues", { from: prev.from, to: prev.to, by: "day" }).then((r) => r.json()).catch(() => null);
    const results = await Promise.allSettled(kinds.map((k) => api(k).then((r) => r.json())));
    const prevQueues = await prevReq;
    await defsReady;
    if (seq !== loadSeq) return;
    data.previousQueues = prevQueues ? Object.assign({ from: prev.from, to: prev.to }, obj(prevQueues.total)) : null;
    kinds.forEach((k, i) => {
      const r = results[i];
      data[k] = r.status === "fulfilled" ? obj(r.value) : null;
      $("err-" + k).textContent = r.status === "fulfilled" ? "" : "Could not load " + k + " report: " + r.reason.message;
    });
    render();
    const failed = results.filter((r) => r.status !== "fulfilled").length;
    $("load-status").textContent = failed ? failed + " of 3 reports failed" : "Updated " + new Date().toLocaleTimeString();
    document.body.dataset.loaded = "1";
  }

  // ---- rendering ----------------------------------------------------------------------------
  function render() {
    renderSummary();
    renderQueues();
    renderConversations();
    renderAgents();
  }

  // value: number, or {mean, p50, p90, count} / {mean, good_share, ratings}; prev: same shape
  const main = (v) => isNum(v) ? v : (v && typeof v === "object" && isNum(v.mean) ? v.mean : null);
  const LOWER_IS_BETTER = /(_s$|abandoned)/;

  function card(key, value, prev, title, sub) {
    const v = main(value), pv = main(prev);
    let delta;
    if (prev === undefined) delta = null;
    else if (!isNum(pv)) delta = el("span", { class: "delta flat", text: "previous: –" });
    else if (!isNum(v)) delta = el("span", { class: "delta flat", text: "previous: " + fmtFor(key, pv) });
    else if (pv === 0) delta = el("span", { class: "delta flat", text: v === 0 ? "= previous (0)" : "previous: 0" });
    else {
      const d = (v - pv) / Math.abs(pv);
      const better = LOWER_IS_BETTER.test(key) ? d < 0 : d > 0;
      delta = el("span", { class: "delta " + (d === 0 ? "flat" : better ? "up" : "down"),
        title: "previous period: " + fmtFor(key, pv),
        text: (d > 0 ? "▲ " : d < 0 ? "▼ " : "= ") + Math.abs(d * 100).toFixed(1) + "% vs " + fmtFor(key, pv) });
    }
    const d = defFor(key);
    const href = d ? drillUrl(d.list, DEF_OF[key] || key, title || label(key)) : null;
    return el(href ? "a" : "div", { class: "card", "data-key": key, href, title: tip(key) },
      el("span", { class: "card-label", text: title || label(key) }),
      el("span", { class: "card-value", text: fmtFor(key, v) }),
      sub ? el("span", { class: "card-sub", text: sub }) : null, delta);
  }

  function queueTotals(rows) {
    const t = { offered: 0, answered: 0, abandoned: 0, short_abandoned: 0, answered_within_sl: 0 };
    for (const r of rows) for (const k of Object.keys(t)) t[k] += num(r[k]);
    const denom = t.answered + t.abandoned - t.short_abandoned;
    t.service_level = denom > 0 ? t.answered_within_sl / denom : null;
    return t;
  }

  const pctls = (x) => {
    const o = obj(x);
    return isNum(o.p50) || isNum(o.p90) ? "p50 " + fmtDuration(o.p50) + " · p90 " + fmtDuration(o.p90) : "";
  };

  function renderSummary() {
    const cards = [];
    const q = data.queues;
    if (q) {
      const t = Object.keys(obj(q.total)).length ? obj(q.total) : queueTotals(arr(q.rows));
      const prev = data.previousQueues || {};
      const has = data.previousQueues !== null && data.previousQueues !== undefined;
      for (const [k, title] of [["offered", "Offered"], ["answered", "Answered"], ["abandoned", "Abandoned"],
        ["service_level", "Service level"], ["asa_s", "ASA"], ["aht_s", "AHT"],
        // business-hours twins (issue 14)
        ["asa_business_s", "ASA (business hours)"], ["aht_business_s", "AHT (business hours)"]]) {
        cards.push(card(k, t[k], has ? (prev[k] ?? null) : undefined, title));
      }
    }
    const c = data.conversations;
    if (c) {
      const prev = c.previous && typeof c.previous === "object" ? c.previous : null;
      const pv = (k) => prev ? (prev[k] ?? null) : undefined;
      const spec = [
        ["conversations", "Conversations"], ["customers", "Customers"],
        ["conversations_per_day", "Per day"], ["conversations_per_customer", "Per customer"],
        ["first_response_s", "First response", pctls], ["response_time_s", "Response time", pctls],
        ["handle_time_s", "Handle time", pctls], ["resolution_time_s", "Resolution time", pctls],
        ["replies_per_conversation", "Replies per conversation"],
        ["resolved_on_first_reply_share", "Resolved on first reply"],
        ["sla_compliance", "SLA compliance"], ["repeat_contact_rate", "Repeat contacts",
          () => isNum(c.repeat_contacts) ? fmtInt(c.repeat_contacts) + " came back within " + num(obj(c.params).repeat_days) + " days" : ""],
        // business-hours twins and resolution SLA (issue 14)
        ["first_response_business_s", "First response (business hours)", pctls],
        ["response_time_business_s", "Response time (business hours)", pctls],
        ["handle_time_business_s", "Handle time (business hours)", pctls],
        ["resolution_time_business_s", "Resolution time (business hours)", pctls],
        ["resolution_sla", "Resolution SLA"], ["resolution_sla_business", "Resolution SLA (business hours)"],
        ["csat", "CSAT", (x) => { const o = obj(x); return isNum(o.good_share) ? fmtPct(o.good_share) + " ≥ 4 · " + fmtInt(o.ratings) + " ratings" : (isNum(o.ratings) ? fmtInt(o.ratings) + " ratings" : ""); }],
      ];
      for (const [k, title, subf] of spec) {
        if (!(k in c)) continue;
        cards.push(card(k, c[k], pv(k), title, subf ? subf(c[k]) : ""));
      }
      $("previous-range").textContent = prev && prev.from ? "(compared with " + String(prev.from).slice(0, 10) + " – " +
        (isNum(toEpoch(prev.to)) ? localDate(new Date((toEpoch(prev.to) - 1) * 1000), $("tz").value || defaultTz) : String(prev.to).slice(0, 10)) + ")" : "";
    } else $("previous-range").textContent = "";
    $("summary").replaceChildren(...cards);
  }

  function chartWidth(div) { return Math.max(300, div.clientWidth - 4); }

  function makeChart(name, div, opts, series) {
    if (charts[name]) { charts[name].destroy(); delete charts[name]; }
    div.replaceChildren();
    if (!window.uPlot) { div.textContent = "Chart library missing."; return; }
    if (!series[0].length) { div.append(el("p", { class: "muted", text: "No data for this range." })); return; }
    opts.width = chartWidth(div);
    opts.height = opts.height || 260;
    charts[name] = new uPlot(opts, series, div);
  }

  const axisStyle = { stroke: "#93a1b0", grid: { stroke: "#2c3640" }, ticks: { stroke: "#2c3640" } };

  // A value axis as wide as its longest label: uPlot's fixed 50 px cut "10,000" to "0,000".
  function fitAxisSize(u, values, axisIdx, cycleNum) {
    const axis = u.axes[axisIdx];
    if (cycleNum > 1 && axis._size) return axis._size; // converged: stop re-measuring
    let size = (axis.ticks && axis.ticks.show !== false ? axis.ticks.size || 0 : 0) + (axis.gap || 0);
    const longest = (values || []).reduce((acc, v) => (String(v ?? "").length > acc.length ? String(v) : acc), "");
    if (longest) {
      u.ctx.font = axis.font ? axis.font[0] : u.ctx.font;
      size += u.ctx.measureText(longest).width / (window.devicePixelRatio || 1);
    }
    return Math.ceil(size) + 4;
  }
  const yAxisStyle = Object.assign({ size: fitAxisSize }, axisStyle);

  function tzDate(ts) {
    const tz = $("tz").value || defaultTz;
    try { return uPlot.tzDate(new Date(ts * 1e3), tz); } catch (e) { return new Date(ts * 1e3); }
  }

  function renderQueues() {
    const rows = arr(data.queues && data.queues.rows);
    // aggregate every queue per interval start
    const byStart = new Map();
    for (const r of rows) {
      const t = toEpoch(r.start);
      if (t === null) continue;
      const a = byStart.get(t) || { offered: 0, answered: 0, abandoned: 0, short_abandoned: 0, answered_within_sl: 0, sl: [] };
      for (const k of ["offered", "answered", "abandoned", "short_abandoned", "answered_within_sl"]) a[k] += num(r[k]);
      if (isNum(r.service_level)) a.sl.push(r.service_level);
      byStart.set(t, a);
    }
    const xs = Array.from(byStart.keys()).sort((a, b) => a - b);
    const agg = xs.map((x) => byStart.get(x));
    makeChart("volume", $("chart-volume"), {
      tzDate, legend: { show: true }, cursor: { drag: { x: true, y: false } },
      axes: [axisStyle, yAxisStyle],
      series: [{}, { label: "Offered", stroke: "#4aa3ff", width: 2 },
        { label: "Answered", stroke: "#2e9e5b", width: 2 },
        { label: "Abandoned", stroke: "#e5484d", width: 2 }],
    }, [xs, agg.map((a) => a.offered), agg.map((a) => a.answered), agg.map((a) => a.abandoned)]);
    const sl = agg.map((a) => {
      const denom = a.answered + a.abandoned - a.short_abandoned;
      if (denom > 0 && (a.answered_within_sl || !a.sl.length)) return 100 * a.answered_within_sl / denom;
      return a.sl.length ? 100 * a.sl.reduce((s, v) => s + v, 0) / a.sl.length : null;
    });
    makeChart("sl", $("chart-sl"), {
      tzDate, axes: [axisStyle, Object.assign({ values: (u, v) => v.map((x) => x + "%") }, yAxisStyle)],
      scales: { y: { range: [0, 100] } },
      series: [{}, { label: "Service level %", stroke: "#e0a21a", width: 2, fill: "rgba(224,162,26,.12)",
        value: (u, v) => v === null ? "–" : v.toFixed(1) + "%" }],
    }, [xs, sl]);

    const cols = [
      { key: "queue", label: "Queue" }, { key: "channel", label: "Channel" },
      { key: "start", label: "Interval start", fmt: (v) => { const t = toEpoch(v); return t === null ? String(v ?? "–") : fmtStart(t); } },
      { key: "offered", label: "Offered", fmt: fmtInt }, { key: "answered", label: "Answered", fmt: fmtInt },
      { key: "abandoned", label: "Abandoned", fmt: fmtInt }, { key: "short_abandoned", label: "Short abandoned", fmt: fmtInt },
      { key: "answered_within_sl", label: "Within SL", fmt: fmtInt }, { key: "asa_s", label: "ASA", fmt: fmtDuration },
      { key: "aht_s", label: "AHT", fmt: fmtDuration }, { key: "service_level", label: "Service level", fmt: fmtPct },
      { key: "asa_business_s", label: "ASA (business)", fmt: fmtDuration },
      { key: "aht_business_s", label: "AHT (business)", fmt: fmtDuration },
    ];
    for (const c of cols) {
      if (CELL_LIST[c.key]) c.link = (r) => r.start && r.end ? drillUrl(Object.assign({ from: r.start, to: r.end,
        queue: r.queue, channel: r.channel }, CELL_LIST[c.key]), c.key,
        c.label + " · " + r.queue + " " + r.channel + " " + r.start) : null;
      if (defs[c.key]) c.tip = tip(c.key);
    }
    setTable("queues", cols, rows);
    // a point of the volume chart opens the contacts created in its interval (every queue)
    // (a point of the SL chart: the contacts answered within SL in it, the rate's numerator)
    const ends = new Map(rows.map((r) => [toEpoch(r.start), r]));
    for (const [name, extra, metric, title] of [["volume", {}, "offered", "Offered"],
      ["sl", { within_sl: "true" }, "service_level", "Within SL"]]) {
      const ch = charts[name];
      if (ch) ch.over.addEventListener("click", () => {
        const i = ch.cursor.idx;
        const r = i === null || i === undefined ? null : ends.get(ch.data[0][i]);
        if (r && r.end) location.href = drillUrl(Object.assign({ from: r.start, to: r.end }, extra), metric, title + " · " + r.start);
      });
    }
  }

  function fmtStart(t) {
    const daily = $("by").value === "day" || $("by").value === "week";
    try {
      return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: $("tz").value || defaultTz, month: "short",
        day: "2-digit", weekday: "short", year: daily ? "numeric" : undefined },
        daily ? {} : { hour: "2-digit", minute: "2-digit" })).format(new Date(t * 1000));
    } catch (e) { return new Date(t * 1000).toISOString(); }
  }

  // buckets: [{bucket, count}] (from the {label: count} dicts of the conversations report)
  function bucketChart(name, div, buckets, color, emptyText, kind) {
    const labels = buckets.map((b) => String(b.bucket ?? ""));
    const counts = buckets.map((b) => num(b.count));
    if (buckets.length && !counts.some((x) => x > 0)) {
      if (charts[name]) { charts[name].destroy(); delete charts[name]; }
      div.replaceChildren(el("p", { class: "muted empty-chart", text: emptyText }));
      return;
    }
    makeChart(name, div, {
      height: 220, legend: { show: false },
      scales: { x: { time: false, range: [-0.6, labels.length - 0.4] }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [Object.assign({ values: (u, ticks) => ticks.map((t) => labels[t] ?? ""), splits: () => labels.map((_, i) => i), gap: 4 }, axisStyle), yAxisStyle],
      series: [{}, { label: "Contacts", stroke: color, fill: color, width: 0,
        paths: uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 80] }) : undefined, points: { show: false } }],
    }, [labels.map((_, i) => i), counts]);
    // a bar opens the bucket's list
    const ch = charts[name];
    if (ch) ch.over.addEventListener("click", () => {
      const i = ch.cursor.idx;
      if (i !== null && i !== undefined && labels[i]) location.href = bucketUrl(kind, labels[i]);
    });
  }

  const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  function renderConversations() {
    const c = obj(data.conversations);
    const buckets = (x) => Array.isArray(x) ? x.map((b) => ({ bucket: obj(b).bucket, count: obj(b).count }))
      : Object.entries(obj(x)).map(([bucket, count]) => ({ bucket, count }));
    const rb = buckets(c.response_time_buckets), hb = buckets(c.handle_time_buckets);
    bucketChart("response", $("chart-response"), rb, "#4aa3ff",
      "No response times in this range (they need customer messages answered by an agent: email and chat).", "response time");
    bucketChart("handle", $("chart-handle"), hb, "#a77bf3", "No handled contacts in this range.", "handle time");
    setTable("buckets", [{ key: "kind", label: "Kind" }, { key: "bucket", label: "Bucket" }, { key: "count", label: "Count", fmt: fmtInt,
      // each bucket opens its list (a response bucket: the contacts holding its responses)
      link: (r) => r.bucket ? bucketUrl(r.kind, r.bucket) : null }],
      rb.map((b) => ({ kind: "response time", bucket: b.bucket, count: b.count }))
        .concat(hb.map((b) => ({ kind: "handle time", bucket: b.bucket, count: b.count }))), { sortable: true, keepOrder: true });

    // heatmap: weekday (1 = Monday .. 7 = Sunday) x hour
    const busiest = arr(c.busiest).map((b) => ({ weekday: obj(b).weekday, hour: obj(b).hour,
      conversations: obj(b).conversations ?? obj(b).count }));
    const grid = {};
    let max = 0;
    for (const b of busiest) {
      const k = num(b.weekday) + ":" + num(b.hour);
      grid[k] = (grid[k] || 0) + num(b.conversations);
      max = Math.max(max, grid[k]);
    }
    const cells = [el("div", { class: "hm-corner" })];
    for (let h = 0; h < 24; h++) cells.push(el("div", { class: "hm-hour", text: String(h) }));
    for (let d = 1; d <= 7; d++) {
      cells.push(el("div", { class: "hm-day", text: WEEKDAYS[d - 1] }));
      for (let h = 0; h < 24; h++) {
        const v = grid[d + ":" + h] || 0;
        const a = max ? v / max : 0;
        // a cell opens the contacts created in that weekday and hour
        cells.push(el("a", { class: "hm-cell" + (a > 0.55 ? " dark" : ""), role: "gridcell", href: cellUrl(d, h),
          "data-weekday": String(d), "data-hour": String(h),
          title: `${WEEKDAYS[d - 1]} ${h}:00 — ${v} contacts`, "aria-label": `${WEEKDAYS[d - 1]} ${h}:00, ${v} contacts`,
          style: `background: rgba(74,163,255,${(0.06 + 0.94 * a).toFixed(3)})`, text: v ? String(v) : "" }));
      }
    }
    $("heatmap").replaceChildren(...(busiest.length ? cells : [el("p", { class: "muted", text: "No data for this range." })]));
    $("heatmap").classList.toggle("empty", !busiest.length);
    setTable("busiest", [{ key: "weekday", label: "Weekday", fmt: (v) => WEEKDAYS[v - 1] || String(v) },
      { key: "hour", label: "Hour", fmt: fmtInt }, { key: "conversations", label: "Conversations", fmt: fmtInt,
        link: (r) => isNum(r.weekday) && isNum(r.hour) ? cellUrl(r.weekday, r.hour) : null }], busiest);
    setTable("tags", [{ key: "tag", label: "Tag" }, { key: "conversations", label: "Conversations", fmt: fmtInt,
      link: (r) => r.tag ? drillUrl({ tag: r.tag }, "conversations", "Tag " + r.tag) : null }],
      arr(c.tags).map((t) => ({ tag: obj(t).tag, conversations: obj(t).conversations ?? obj(t).count })));
  }

  function renderAgents() {
    // nested csat {mean, good_share, ratings} becomes three sortable columns
    const rows = arr(data.agents && data.agents.rows).map((r) => {
      const o = Object.assign({}, obj(r));
      if (o.csat && typeof o.csat === "object") {
        const cs = o.csat;
        delete o.csat;
        o.csat = cs.mean ?? null; o.csat_good_share = cs.good_share ?? null; o.csat_ratings = cs.ratings ?? null;
      }
      return o;
    });
    const titles = { agent: "Agent", handled: "Handled", replies: "Replies", closed: "Closed",
      closed_without_reply: "Closed without reply", handle_s: "Handle time", aht_s: "AHT",
      first_response_s: "First response", first_response_business_s: "First response (business)",
      handle_business_s: "Handle time (business)", aht_business_s: "AHT (business)", customers: "Customers", csat: "CSAT", csat_good_share: "CSAT ≥ 4",
      csat_ratings: "Ratings" };
    const keys = Object.keys(titles);
    for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
    setTable("agents", keys.map((k) => ({ key: k, label: titles[k] || label(k),
      fmt: k === "agent" ? undefined : (v) => fmtFor(k, v),
      // every countable cell opens the contacts it counts; a mean, the contacts it is computed over
      link: AGENT_LIST[k] ? (r) => agentUrl(k, r, titles[k] || label(k)) : undefined })), rows);
  }

  // ---- sortable tables ----------------------------------------------------------------------
  function setTable(name, columns, rows, opts) {
    const t = tables[name] || (tables[name] = { sortKey: null, sortDir: 1 });
    t.columns = columns;
    t.rows = rows.map(obj);
    t.opts = opts || {};
    drawTable(name);
  }

  function cmp(a, b) {
    if (isNum(a) && isNum(b)) return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function sortedRows(name) {
    const t = tables[name];
    const rows = t.rows.slice();
    const k = t.sortKey;
    if (k) rows.sort((x, y) => {
      const na = x[k] == null, nb = y[k] == null;
      if (na || nb) return na && nb ? 0 : na ? 1 : -1;  // empty values last in both directions
      return cmp(x[k], y[k]) * t.sortDir;
    });
    return rows;
  }

  function drawTable(name) {
    const t = tables[name];
    const table = $("table-" + name);
    const head = el("tr", {}, ...t.columns.map((c) => {
      const sorted = t.sortKey === c.key;
      const th = el("th", { scope: "col", "data-key": c.key, title: c.tip || null, "aria-sort": sorted ? (t.sortDir > 0 ? "ascending" : "descending") : "none" },
        el("button", { type: "button", class: "sort", text: c.label + (sorted ? (t.sortDir > 0 ? " ▲" : " ▼") : "") }));
      th.firstChild.addEventListener("click", () => {
        if (t.sortKey === c.key) t.sortDir = -t.sortDir; else { t.sortKey = c.key; t.sortDir = isNum(t.rows.find((r) => r[c.key] != null)?.[c.key]) ? -1 : 1; }
        drawTable(name);
      });
      return th;
    }));
    const body = sortedRows(name).map((r) => el("tr", {}, ...t.columns.map((c) => {
      const text = c.fmt ? c.fmt(r[c.key]) : (r[c.key] ?? "–");
      const href = c.link ? c.link(r) : null;
      return el("td", { class: isNum(r[c.key]) ? "n" : "", "data-key": c.key, text: href ? null : text },
        href ? el("a", { class: "drill", href, text }) : null);
    })));
    if (!body.length) body.push(el("tr", {}, el("td", { colspan: String(t.columns.length), class: "muted", text: "No rows." })));
    table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  }

  // ---- CSV ------------------------------------------------------------------------------------
  function csvCell(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") v = JSON.stringify(v);
    const s = String(v);
    return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function tableCsv(name) {
    const t = tables[name];
    if (!t) return "";
    const keys = t.columns.map((c) => c.key);
    return [keys.join(",")].concat(sortedRows(name).map((r) => keys.map((k) => csvCell(r[k])).join(","))).join("\r\n") + "\r\n";
  }
  function saveBlob(blob, filename) {
    const a = el("a", { href: URL.createObjectURL(blob), download: filename });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  async function downloadCsv(name) {
    const fname = `tablero-${name}-${$("from").value}_${$("to").value}.csv`;
    if (name === "queues" || name === "agents" || name === "conversations") {
      try {  // the server's CSV has full precision and every column
        const res = await api(name, { format: "csv" });
        saveBlob(new Blob([await res.text()], { type: "text/csv" }), fname);
        return;
      } catch (e) {
        if (!tables[name]) { $("load-status").textContent = "CSV download failed: " + e.message; return; }
      }
    }
    saveBlob(new Blob([tableCsv(name)], { type: "text/csv" }), fname);
  }
  for (const b of document.querySelectorAll("button.csv")) b.addEventListener("click", () => downloadCsv(b.dataset.csv));

  // ---- token ----------------------------------------------------------------------------------
  function askToken(msg) {
    $("token-form").hidden = false;
    $("token-error").textContent = msg;
  }
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    token = $("token-input").value.trim();
    localStorage.setItem(TOKEN_KEY, token);
    $("token-form").hidden = true;
    load();
  });

  // ---- boot -----------------------------------------------------------------------------------
  $("tz").value = params.get("tz") || defaultTz;
  $("queue").value = params.get("queue") || "";
  $("channel").value = params.get("channel") || "";
  $("agent").value = params.get("agent") || "";
  $("tag").value = params.get("tag") || "";
  const range = params.get("range") || (params.get("from") ? "custom" : "7");
  applyPreset(range === "custom" ? "7" : range);
  if (range === "custom") {
    for (const b of $("presets").querySelectorAll("button")) b.classList.toggle("active", b.dataset.preset === "custom");
    if (params.get("from")) $("from").value = params.get("from");
    if (params.get("to")) $("to").value = params.get("to");
  }
  if (params.get("by")) $("by").value = params.get("by");
  $("presets").addEventListener("click", (ev) => {
    const p = ev.target.closest("button[data-preset]");
    if (p && applyPreset(p.dataset.preset)) load();
  });
  for (const id of ["from", "to"]) $(id).addEventListener("change", () => {
    for (const b of $("presets").querySelectorAll("button")) b.classList.toggle("active", b.dataset.preset === "custom");
  });
  $("controls").addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
  let resizeTimer;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const [name, ch] of Object.entries(charts)) ch.setSize({ width: chartWidth(ch.root.parentElement), height: ch.height });
    }, 150);
  });
  window.tableroReports = { load, tables, charts, data };
  load();
})();
