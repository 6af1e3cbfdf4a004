/* Tablero live wallboard. No dependencies; everything served by the API.
 *
 * URL parameters: token (else localStorage "tablero.token"), queue (repeatable or comma-separated),
 * channel, tv=1 (large type, no scrolling), target (service-level target, default 0.8).
 * Protocol: see supervisor_api/routes/live.py.
 */
(function () {
  "use strict";

  const params = new URLSearchParams(location.search);
  const TOKEN_KEY = "tablero.token";
  const STATES = ["available", "busy", "after_contact_work", "away", "offline"];
  const STATE_LABEL = {
    available: "Available", busy: "Busy", after_contact_work: "After-contact work",
    away: "Away", offline: "Offline",
  };
  const DEFAULT_TARGET = Number(params.get("target")) || 0.8;
  const HEARTBEAT_TIMEOUT_MS = 15000;

  const { $, el } = window.TableroDom;

  // ---- state --------------------------------------------------------------------------------
  const state = {
    token: params.get("token") || localStorage.getItem(TOKEN_KEY) || "",
    queues: splitParam(params.getAll("queue")),
    channel: params.get("channel") || "",
    tv: params.get("tv") === "1",
    view: null,
    receivedAt: 0,          // performance.now() when the current view arrived
    knownQueues: new Set(),
    ws: null,
    attempt: 0,
    reconnectTimer: null,
    watchdog: null,
    stopped: false,
  };
  if (params.get("token")) localStorage.setItem(TOKEN_KEY, params.get("token"));

  function splitParam(values) {
    const out = [];
    for (const v of values) for (const p of v.split(",")) if (p.trim()) out.push(p.trim());
    return out;
  }

  // ---- formatting ---------------------------------------------------------------------------
  function fmtDuration(s) {
    if (s === null || s === undefined || !isFinite(s)) return "–";
    s = Math.max(0, Math.floor(s));
    if (s < 60) return s + "s";
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (d > 0) return d + "d " + h + "h";
    const mm = String(m).padStart(h ? 2 : 1, "0"), ss = String(sec).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }
  const fmtPct = (x) => (x === null || x === undefined || !isFinite(x)) ? "–" : Math.round(x * 100) + "%";
  const num = (x) => (typeof x === "number" && isFinite(x)) ? x : 0;
  const elapsed = () => state.view ? (performance.now() - state.receivedAt) / 1000 : 0;

  // ---- status indicator ---------------------------------------------------------------------
  function setStatus(kind, text) {
    const s = $("status");
    s.dataset.state = kind;
    $("status-text").textContent = text;
  }

  // ---- rendering ----------------------------------------------------------------------------
  function slBlock(label, period, target) {
    const sl = period ? period.service_level : null;
    const has = sl !== null && sl !== undefined && isFinite(sl);
    const ok = has && sl >= target;
    return el("div", { class: "sl " + (has ? (ok ? "sl-ok" : "sl-bad") : "sl-none") },
      el("span", { class: "sl-label", text: label }),
      el("span", { class: "sl-value", text: fmtPct(sl) }),
      el("span", { class: "sl-target", text: has ? (ok ? "✓ on target " : "▼ below ") + fmtPct(target) : "target " + fmtPct(target) }));
  }

  function countBox(cls, icon, label, value) {
    return el("div", { class: "count " + cls, "data-kind": cls },
      el("span", { class: "count-num", text: String(num(value)) }),
      el("span", { class: "count-label" }, el("span", { class: "icon", "aria-hidden": "true", text: icon }), " " + label));
  }

  function tile(row, isTotal) {
    const target = typeof row.sl_target === "number" ? row.sl_target : DEFAULT_TARGET;
    const title = isTotal ? "All queues" : row.queue + (row.channel ? " · " + row.channel : "");
    const waiting = num(row.waiting);
    // issue 14: a queue on the business clock does not age while its calendar is closed
    const paused = row.clock === "business" && typeof row.clock_resumes_at === "number";
    const cls = "tile" + (isTotal ? " tile-total" : "") + (num(row.breached) > 0 ? " has-breach" : num(row.at_risk) > 0 ? " has-risk" : "");
    return el("article", { class: cls, "data-queue": isTotal ? "__total__" : row.queue, "data-channel": row.channel || "" },
      el("header", { class: "tile-head" },
        el("h2", { class: "tile-title", text: title }),
        row.threshold_s ? el("span", { class: "tile-thr", text: "SL " + fmtDuration(row.threshold_s) +
          (row.clock === "business" ? " (business hours)" : "") }) : null),
      paused ? el("div", { class: "clock-paused", "data-testid": "clock-paused",
        text: "Clock paused (closed) until " + new Date(row.clock_resumes_at * 1000).toLocaleString(undefined,
          { weekday: "short", hour: "2-digit", minute: "2-digit" }) }) : null,
      el("div", { class: "tile-waiting" },
        el("span", { class: "num", "data-testid": "waiting", text: String(waiting) }),
        el("span", { class: "lbl", text: "waiting" })),
      el("div", { class: "counts" },
        countBox("inside", "✓", "Inside SL", row.inside_sl),
        countBox("at-risk", "!", "At risk", row.at_risk),
        countBox("breached", "✕", "Breached", row.breached)),
      el("div", { class: "oldest" },
        el("span", { class: "lbl", text: "Oldest wait " }),
        el("span", { class: "oldest-val", "data-oldest": waiting > 0 && !paused ? String(num(row.oldest_wait_s)) : "",
          text: waiting > 0 ? fmtDuration(num(row.oldest_wait_s) + (paused ? 0 : elapsed())) : "–" })),
      el("div", { class: "sls" },
        slBlock("Today", row.today, target),
        slBlock("Last 30 min", row.last_30m, target)),
      el("div", { class: "extra" },
        el("span", { text: "In progress " + num(row.in_progress) }),
        el("span", { text: "ASA " + fmtDuration(row.today && row.today.asa_s) }),
        el("span", { text: "Abandoned " + num(row.today && row.today.abandoned) })));
  }

  function render() {
    const v = state.view;
    if (!v) return;
    for (const r of v.queues || []) state.knownQueues.add(r.queue);
    renderQueueFilter();

    const total = Object.assign({}, v.total || {});
    $("totals").replaceChildren(tile(total, true));
    const rows = (v.queues || []).slice().sort((a, b) =>
      (a.queue || "").localeCompare(b.queue || "") || (a.channel || "").localeCompare(b.channel || ""));
    const tiles = rows.map((r) => tile(r, false));
    if (!tiles.length) tiles.push(el("p", { class: "empty", text: "No queues to show for this filter." }));
    $("tiles").replaceChildren(...tiles);
    layoutTiles(rows.length);

    // agents
    const hidden = !!v.agents_hidden;
    $("agents-hidden").hidden = !hidden;
    const counts = v.agent_states || {};
    $("agent-states").replaceChildren(...(hidden ? [] : STATES.map((s) =>
      el("div", { class: "agent-state st-" + s, "data-state": s },
        el("span", { class: "count-num", text: String(num(counts[s])) }),
        el("span", { class: "count-label", text: STATE_LABEL[s] })))));
    const agents = (v.agents || []).slice().sort((a, b) =>
      STATES.indexOf(a.state) - STATES.indexOf(b.state) || (a.agent || "").localeCompare(b.agent || ""));
    $("agent-table").tBodies[0].replaceChildren(...agents.map((a) => {
      const load = Math.max(0, Math.min(1, num(a.load)));
      const open = a.open ? Object.entries(a.open).filter(([, n]) => n > 0).map(([c, n]) => c + " " + n).join(", ") : "";
      return el("tr", { "data-agent": a.agent },
        el("td", { text: a.agent }),
        el("td", {}, el("span", { class: "state-pill st-" + a.state, text: (STATE_LABEL[a.state] || a.state) + (a.reason ? " (" + a.reason + ")" : "") })),
        el("td", { class: "in-state", "data-base": String(num(a.time_in_state_s)), text: fmtDuration(num(a.time_in_state_s) + elapsed()) }),
        el("td", { text: open || "–" }),
        el("td", {}, el("div", { class: "load", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(load * 100)) },
          el("div", { class: "load-bar" + (load >= 1 ? " full" : ""), style: "width:" + (load * 100).toFixed(1) + "%" }),
          el("span", { class: "load-text", text: Math.round(load * 100) + "%" }))));
    }));
    $("agents-panel").classList.toggle("no-agents", hidden || agents.length === 0);
    markAlertTiles();
  }

  // ---- alerts (issue 15): a banner of firing alerts; the tile of an alerting queue is marked ----
  const ALERTS_POLL_MS = 3000;
  let activeAlerts = [];
  let canAck = false;  // the token may acknowledge (admin, supervisor): the banner offers "Ack"

  function markAlertTiles() {
    for (const t of document.querySelectorAll("article.tile.has-alert")) {
      t.classList.remove("has-alert"); delete t.dataset.alert;
    }
    for (const a of activeAlerts) {
      const s = a.scope || {};
      if (!s.queue || s.contact) continue;
      for (const t of document.querySelectorAll("article.tile")) {
        if (t.dataset.queue === s.queue && (!s.channel || t.dataset.channel === s.channel)) {
          t.classList.add("has-alert");
          if (t.dataset.alert !== "critical") t.dataset.alert = a.severity;
        }
      }
    }
  }

  function renderAlerts() {
    const banner = $("alerts-banner");
    banner.hidden = activeAlerts.length === 0;
    const worst = activeAlerts.some((a) => a.severity === "critical") ? "critical" : "warning";
    banner.dataset.severity = worst;
    banner.replaceChildren(...activeAlerts.slice(0, 6).map((a) => {
      const s = a.scope || {};
      const where = s.contact ? "contact " + s.contact + (s.agent ? " (" + s.agent + ")" : "")
        : s.queue ? s.queue + (s.channel ? " · " + s.channel : "") : s.channel || "all queues";
      const item = el("span", { class: "alert-item sev-" + a.severity, "data-alert-id": a.id,
        text: "⚠ " + a.rule + " — " + where + (a.escalate_to ? " → " + a.escalate_to : "") + (a.acked_by ? " (ack)" : "") });
      if (canAck && !a.acked_by) {
        const b = el("button", { class: "alert-ack", type: "button", text: "Ack", title: "Acknowledge: I am on it" });
        b.addEventListener("click", () => ackAlert(a.id, b));
        item.append(" ", b);
      }
      return item;
    }), ...(activeAlerts.length > 6 ? [el("span", { class: "alert-more", text: "+" + (activeAlerts.length - 6) + " more" })] : []));
    markAlertTiles();
  }

  async function ackAlert(id, button) {
    button.disabled = true;
    try {
      const r = await fetch("/api/v1/alerts/" + encodeURIComponent(id) + "/ack",
        { method: "POST", headers: { Authorization: "Bearer " + state.token } });
      if (r.ok) {
        const ep = await r.json();
        activeAlerts = activeAlerts.map((a) => a.id === id ? ep : a);
        renderAlerts();
        return;
      }
      button.title = "Not acknowledged (" + r.status + "): try again";
    } catch (e) { button.title = "Not acknowledged (offline): try again"; }
    button.disabled = false;
  }

  async function pollAlerts() {
    if (state.token && !state.stopped) {
      try {
        const r = await fetch("/api/v1/alerts?history=false", { headers: { Authorization: "Bearer " + state.token } });
        if (r.ok) {
          const body = await r.json();
          canAck = !!body.can_ack;
          activeAlerts = (body.active || []).filter((a) => !state.queues.length || !a.scope || !a.scope.queue
            || state.queues.includes(a.scope.queue));
          renderAlerts();
        }
      } catch (e) { /* offline: keep the last banner; the status light says so */ }
    }
    setTimeout(pollAlerts, ALERTS_POLL_MS);
  }

  // Count waits and time-in-state up between updates (local clock since the view arrived).
  function tick() {
    const e = elapsed();
    for (const n of document.querySelectorAll(".oldest-val[data-oldest]")) {
      if (n.dataset.oldest !== "") n.textContent = fmtDuration(Number(n.dataset.oldest) + e);
    }
    for (const n of document.querySelectorAll(".in-state[data-base]")) {
      n.textContent = fmtDuration(Number(n.dataset.base) + e);
    }
    $("clock").textContent = new Date().toLocaleTimeString();
  }

  // TV mode: choose a column count so every tile fits the screen without scrolling.
  function layoutTiles(n) {
    const box = $("tiles");
    if (!state.tv || n === 0) { box.style.removeProperty("--cols"); box.style.removeProperty("--rows"); return; }
    const w = box.clientWidth || window.innerWidth, h = box.clientHeight || window.innerHeight;
    const aspect = 1.35; // preferred tile width / height
    let best = 1, bestSize = 0;
    for (let cols = 1; cols <= n; cols++) {
      const rows = Math.ceil(n / cols);
      const tw = w / cols, th = h / rows;
      const size = Math.min(tw / aspect, th); // the usable tile height at this layout
      if (size > bestSize) { bestSize = size; best = cols; }
    }
    box.style.setProperty("--cols", best);
    box.style.setProperty("--rows", Math.ceil(n / best));
  }

  // ---- filters ------------------------------------------------------------------------------
  function renderQueueFilter() {
    const list = $("queue-list");
    const names = Array.from(state.knownQueues).sort();
    for (const q of state.queues) if (!names.includes(q)) names.push(q);
    const existing = Array.from(list.querySelectorAll("input")).map((i) => i.value);
    if (existing.join("\u0000") !== names.join("\u0000")) {
      list.replaceChildren(...names.map((q) => el("label", {},
        el("input", { type: "checkbox", value: q, checked: state.queues.includes(q) }), " " + q)));
    }
    $("queue-summary").textContent = state.queues.length ? "Queues: " + state.queues.join(", ") : "All queues";
  }

  function applyFilters() {
    const p = new URLSearchParams(location.search);
    p.delete("queue");
    for (const q of state.queues) p.append("queue", q);
    if (state.channel) p.set("channel", state.channel); else p.delete("channel");
    const qs = p.toString();
    history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
    updateTvLink();
    renderQueueFilter();
    if (state.ws && state.ws.readyState === WebSocket.OPEN) {
      state.ws.send(JSON.stringify({ subscribe: {
        queues: state.queues.length ? state.queues : null,
        channels: state.channel ? [state.channel] : null } }));
    }
  }

  function updateTvLink() {
    const p = new URLSearchParams(location.search);
    if (state.tv) p.delete("tv"); else p.set("tv", "1");
    $("tv-link").href = location.pathname + "?" + p.toString();
    $("tv-link").textContent = state.tv ? "Exit TV mode" : "TV mode";
  }

  $("queue-list").addEventListener("change", () => {
    state.queues = Array.from($("queue-list").querySelectorAll("input:checked")).map((i) => i.value);
    applyFilters();
  });
  $("channel-filter").addEventListener("change", (ev) => { state.channel = ev.target.value; applyFilters(); });

  // ---- connection ---------------------------------------------------------------------------
  const SUBPROTOCOL_SAFE = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

  function wsUrl() {
    const p = new URLSearchParams();
    for (const q of state.queues) p.append("queue", q);
    if (state.channel) p.set("channel", state.channel);
    if (!SUBPROTOCOL_SAFE.test(state.token)) p.set("token", state.token);
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return proto + "//" + location.host + "/api/v1/live/ws" + (p.toString() ? "?" + p : "");
  }

  function armWatchdog() {
    clearTimeout(state.watchdog);
    state.watchdog = setTimeout(() => {
      setStatus("reconnecting", "No data — reconnecting…");
      if (state.ws) state.ws.close();
    }, HEARTBEAT_TIMEOUT_MS);
  }

  function connect() {
    clearTimeout(state.reconnectTimer);
    if (!state.token) { askToken(""); return; }
    setStatus(state.attempt ? "reconnecting" : "connecting", state.attempt ? "Reconnecting…" : "Connecting…");
    const protocols = SUBPROTOCOL_SAFE.test(state.token) ? ["tablero.v1", "bearer." + state.token] : ["tablero.v1"];
    let ws;
    try { ws = new WebSocket(wsUrl(), protocols); } catch (e) { scheduleReconnect(); return; }
    state.ws = ws;
    ws.onopen = armWatchdog;
    ws.onmessage = (ev) => {
      armWatchdog();
      let msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "snapshot" || msg.type === "update") {
        state.view = msg.view || {};
        state.receivedAt = performance.now();
        state.attempt = 0;
        setStatus("live", "Live");
        document.body.dataset.version = String((Number(document.body.dataset.version) || 0) + 1);
        render();
      }
    };
    ws.onclose = (ev) => {
      clearTimeout(state.watchdog);
      if (state.ws !== ws) return;
      state.ws = null;
      if (ev.code === 4401) { setStatus("denied", "Invalid token"); askToken("The token was not accepted."); return; }
      if (ev.code === 4403) { setStatus("denied", "No access to live view"); askToken("This token cannot read the live view."); return; }
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (state.stopped) return;
    state.attempt += 1;
    const delay = Math.min(15000, 500 * 2 ** Math.min(state.attempt - 1, 5)) * (0.75 + Math.random() * 0.5);
    setStatus("reconnecting", "Offline — retrying in " + Math.ceil(delay / 1000) + "s");
    state.reconnectTimer = setTimeout(connect, delay);
  }

  function askToken(message) {
    $("token-form").hidden = false;
    $("token-error").textContent = message;
    if (!state.token) setStatus("denied", "Token needed");
  }

  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.token = $("token-input").value.trim();
    localStorage.setItem(TOKEN_KEY, state.token);
    $("token-form").hidden = true;
    state.attempt = 0;
    connect();
  });

  window.addEventListener("online", () => { if (!state.ws) { state.attempt = 0; connect(); } });
  window.addEventListener("resize", () => layoutTiles((state.view && state.view.queues || []).length));

  // ---- boot ---------------------------------------------------------------------------------
  document.body.classList.toggle("tv", state.tv);
  $("channel-filter").value = state.channel;
  updateTvLink();
  renderQueueFilter();
  tick();
  setInterval(tick, 1000);
  connect();
  pollAlerts();
  window.tablero = { state, render };
})();
