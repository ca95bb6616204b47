/* jvisor's web viewer: plain JS, no framework. The server filters and pages
 * (/api/events); this page keeps a few pages of rows and draws what is visible. */
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const ROW = 22, PAGE = 200, MAXH = 8e6;
  const params = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  let token = hash.get("token") || params.get("token") || sessionStorage.getItem("jvisor-token") || "";
  if (token) sessionStorage.setItem("jvisor-token", token);
  const st = { total: 0, records: 0, t0: 0, pages: new Map(), gen: 0, sel: -1, live: false,
               control: false, filter: "", pid: 0, follow: true, selSeq: -1 };

  function q(path, extra) {
    const u = new URL(path, location.origin);
    if (extra) for (const [k, v] of Object.entries(extra)) if (v !== "" && v != null) u.searchParams.set(k, v);
    if (token && !params.has("noquerytoken")) u.searchParams.set("token", token);
    return u;
  }
  async function get(path, extra) {
    const r = await fetch(q(path, extra), { headers: token ? { "X-Jvisor-Token": token } : {} });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }
  async function post(path, body, type) {
    const r = await fetch(path, { method: "POST", body,
      headers: { "Content-Type": type || "application/json", "X-Jvisor-Token": $("token").value || token } });
    const j = await r.json();
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  /* ---- filters ---- */
  function filterParams() {
    const f = {};
    const v = (id) => $(id).value.trim();
    if (v("f-q")) f.q = v("f-q");
    if (v("f-name")) f.name = v("f-name").replace(/\s+/g, "");
    if (v("f-class")) f.class = v("f-class");
    if (v("f-pid")) f.pid = v("f-pid");
    if (v("f-tid")) f.tid = v("f-tid");
    if ($("f-errors").checked) f.errors = 1;
    if ($("f-hooked").checked) f.hooked = 1;
    if ($("f-syscalls").checked) f.syscalls = 1;
    return f;
  }
  let filterTimer = 0;
  function filtersChanged() {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { resetTable(); markTree(); }, 200);
  }
  $("filters").addEventListener("input", filtersChanged);
  $("filters").addEventListener("change", filtersChanged);
  $("filters").addEventListener("reset", () => setTimeout(filtersChanged, 0));
  $("filters").addEventListener("submit", (e) => e.preventDefault());

  /* ---- the virtual table ---- */
  const scroller = $("scroller"), rowsEl = $("rows"), spacer = $("spacer"), table = $("table");
  function resetTable() {
    st.filter = JSON.stringify(filterParams());
    st.pages.clear();
    st.gen++;
    st.sel = -1;
    refreshTotal().then(() => { if (st.follow) toEnd(); else render(); });
  }
  async function refreshTotal() {
    const gen = st.gen;
    try {
      const j = await get("/api/events", Object.assign({ limit: 0 }, filterParams()));
      if (gen !== st.gen) return;
      $("f-error").textContent = "";
      const grew = j.total !== st.total;
      st.total = j.total; st.records = j.records;
      /* the last page may have been partial: fetch it again */
      if (grew) st.pages.delete(Math.floor(Math.max(0, st.total - 1) / PAGE)), st.pages.delete(Math.floor(Math.max(0, st.total - 1) / PAGE) - 1);
      layout();
      $("counts").textContent = `${st.total.toLocaleString()} shown of ${st.records.toLocaleString()} records`;
    } catch (e) { $("f-error").textContent = e.message; }
  }
  function virtH() { return Math.min(st.total * ROW, MAXH); }
  function layout() {
    spacer.style.height = virtH() + "px";
    table.setAttribute("aria-rowcount", st.total);
    render();
  }
  function firstIndex() {
    const vh = scroller.clientHeight, n = Math.ceil(vh / ROW);
    const full = st.total * ROW;
    if (full <= MAXH) return Math.floor(scroller.scrollTop / ROW);
    const frac = scroller.scrollTop / Math.max(1, virtH() - vh);
    return Math.floor(frac * Math.max(0, st.total - n));
  }
  function page(p) {
    if (st.pages.has(p)) return st.pages.get(p);
    const gen = st.gen;
    st.pages.set(p, null);
    get("/api/events", Object.assign({ offset: p * PAGE, limit: PAGE }, filterParams()))
      .then((j) => { if (gen === st.gen) { st.pages.set(p, j.events); render(); } })
      .catch(() => { if (gen === st.gen) st.pages.delete(p); });
    return null;
  }
  function rowAt(i) {
    const pg = page(Math.floor(i / PAGE));
    return pg ? pg[i % PAGE] : undefined;
  }
  const fmtArg = (a) => a === null ? "NULL" : typeof a === "string" ? JSON.stringify(a) : typeof a === "object" ? (a.path !== undefined && a.fd !== undefined ? `${a.fd}<${a.path}>` : a.str !== undefined ? JSON.stringify(a.str) + "…" : JSON.stringify(a)) : String(a);
  function summary(e) {
    switch (e.type) {
      case "syscall": return (e.args || []).map(fmtArg).join(", ");
      case "spawn": case "exec": return (e.argv || []).join(" ");
      case "fork": case "vfork": case "clone": return `child ${e.child}${e.thread ? " (thread)" : ""} ${e.flags || ""}`;
      case "exit": return e.signal ? `killed by ${e.signal}` : `status ${e.status}`;
      case "signal": return `${e.sig} ${e.code || ""}`;
      case "print": return e.text;
      case "log": return JSON.stringify(e.value);
      case "hook_error": return `${e.where}: ${e.message}`;
      default: return JSON.stringify(e);
    }
  }
  function result(e) {
    if (e.type !== "syscall") return "";
    if (e.unfinished) return "unfinished";
    if (e.errname) return `-1 ${e.errname}`;
    return e.ret === null || e.ret === undefined ? "" : String(e.ret);
  }
  function render() {
    const vh = scroller.clientHeight, n = Math.ceil(vh / ROW) + 1;
    const first = firstIndex();
    const full = st.total * ROW <= MAXH;
    rowsEl.style.top = (full ? first * ROW : scroller.scrollTop) + "px";
    let html = "";
    for (let i = first; i < Math.min(st.total, first + n); i++) {
      const e = rowAt(i);
      if (!e) { html += `<div class="r" role="row" aria-rowindex="${i + 1}"><span>…</span></div>`; continue; }
      const cls = ["r"];
      if (e.errno > 0) cls.push("err");
      if (e.hooks) cls.push("hooked");
      if (e.type === "print" || e.type === "log" || e.type === "hook_error") cls.push("out");
      else if (e.type !== "syscall") cls.push("proc");
      if (i === st.sel) cls.push("sel");
      const t = st.t0 && e.ts ? (e.ts - st.t0).toFixed(6) : "";
      html += `<div class="${cls.join(" ")}" role="row" aria-rowindex="${i + 1}" aria-selected="${i === st.sel}" data-i="${i}" data-seq="${e.seq}">` +
        `<span>${e.seq}</span><span>${t}</span><span>${e.pid}/${e.tid}</span><span>${esc(e.comm || "")}</span>` +
        `<span class="ev">${esc(e.type === "syscall" ? e.name : e.type)}</span><span>${esc(summary(e))}</span>` +
        `<span class="res">${esc(result(e))}</span><span>${e.dur_us ?? ""}</span></div>`;
    }
    rowsEl.innerHTML = html;
  }
  scroller.addEventListener("scroll", () => {
    const atEnd = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 2;
    if (!atEnd && st.follow && !programmaticScroll) setFollow(false);
    programmaticScroll = false;
    render();
  });
  let programmaticScroll = false;
  function toEnd() { programmaticScroll = true; scroller.scrollTop = scroller.scrollHeight; render(); }
  function setFollow(on) { st.follow = on; $("follow").checked = on; if (on) toEnd(); }
  $("follow").addEventListener("change", () => setFollow($("follow").checked));
  rowsEl.addEventListener("click", (ev) => {
    const r = ev.target.closest(".r");
    if (r && r.dataset.i) select(+r.dataset.i, true);
  });
  async function openIndex(i) {
    let e = rowAt(i);
    if (!e) {
      const j = await get("/api/events", Object.assign({ offset: i, limit: 1 }, filterParams()));
      e = j.events[0];
    }
    if (e) details(e.seq);
  }
  function select(i, open) {
    if (i < 0 || i >= st.total) return;
    st.sel = i;
    const vh = scroller.clientHeight;
    if (st.total * ROW <= MAXH) {
      if (i * ROW < scroller.scrollTop) scroller.scrollTop = i * ROW;
      else if ((i + 1) * ROW > scroller.scrollTop + vh) scroller.scrollTop = (i + 1) * ROW - vh;
    }
    render();
    if (open) openIndex(i);
  }
  table.addEventListener("keydown", (ev) => {
    const n = Math.max(1, Math.floor(scroller.clientHeight / ROW) - 1);
    const k = ev.key;
    let i = st.sel < 0 ? firstIndex() : st.sel;
    if (k === "ArrowDown" || k === "j") i++;
    else if (k === "ArrowUp" || k === "k") i--;
    else if (k === "PageDown") i += n;
    else if (k === "PageUp") i -= n;
    else if (k === "Home") i = 0;
    else if (k === "End") i = st.total - 1;
    else if (k === "Enter") { ev.preventDefault(); if (st.sel >= 0) openIndex(st.sel); return; }
    else return;
    ev.preventDefault();
    setFollow(false);
    select(Math.max(0, Math.min(st.total - 1, i)), false);
  });
  document.addEventListener("keydown", (ev) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
    if (ev.key === "Escape") { closeDetails(); return; }
    if (typing) return;
    if (ev.key === "/") { ev.preventDefault(); $("f-q").focus(); }
    else if (ev.key === "f") setFollow(!st.follow);
    else if (ev.key === "t") toggleTheme();
  });

  /* ---- details ---- */
  async function details(seq) {
    const d = $("details");
    try {
      const j = await get("/api/event", { seq });
      const e = j.event;
      $("d-title").textContent = e.type === "syscall" ? `${e.name} #${e.seq}` : `${e.type} #${e.seq}`;
      let h = "<dl>";
      const row = (k, v, cls) => { h += `<dt>${k}</dt><dd${cls ? ` class="${cls}"` : ""}>${esc(v)}</dd>`; };
      row("pid / tid", `${e.pid} / ${e.tid}`);
      if (e.comm) row("comm", e.comm);
      if (e.ts) row("time", new Date(e.ts * 1000).toISOString() + (st.t0 ? ` (+${(e.ts - st.t0).toFixed(6)} s)` : ""));
      if (e.type === "syscall") {
        row("syscall", `${e.name} (${e.sysno}${e.abi ? ", " + e.abi : ""})`);
        row("result", result(e), e.errno > 0 ? "errtxt" : "");
        if (e.errname) row("errno", `${e.errno} ${e.errname}`, "errtxt");
        if (e.dur_us !== undefined) row("duration", `${e.dur_us} µs`);
        (e.args || []).forEach((a, i) => row(`arg ${i}`, fmtArg(a)));
      }
      h += "</dl>";
      if (e.hooks) {
        const hk = e.hooks;
        h += "<h2>hooks</h2><dl>";
        if (hk.before) row("before", hk.before.join(", "));
        if (hk.after) row("after", hk.after.join(", "));
        if (hk.args) for (const [k, v] of Object.entries(hk.args)) row(`arg ${k}`, `${fmtArg(v.from)} → ${fmtArg(v.to)}`);
        if (hk.skipped) row("skipped", "yes: the syscall did not run; the result is the hook's");
        if (hk.result) row("kernel said", `${hk.result.ret} ${hk.result.errname || ""}`);
        h += "</dl>";
      }
      if (j.output && j.output.length) {
        h += "<h2>hook output</h2><pre>" + j.output.map((o) => esc(`${o.where || ""}: ${o.type === "print" ? o.text : JSON.stringify(o.value)}`)).join("\n") + "</pre>";
      }
      const raw = Object.assign({}, e); delete raw.seq;
      h += "<h2>raw record</h2><pre>" + esc(JSON.stringify(raw, null, 2)) + "</pre>";
      $("d-body").innerHTML = h;
      d.hidden = false;
    } catch (err) { $("d-body").textContent = err.message; d.hidden = false; }
  }
  function closeDetails() { $("details").hidden = true; table.focus(); }
  $("d-close").addEventListener("click", closeDetails);

  /* ---- processes ---- */
  let procs = [], treeHtml = "";
  async function loadProcs() {
    try { procs = await get("/api/processes"); } catch (e) { return; }
    const by = new Map(procs.map((p) => [p.pid, Object.assign(p, { kids: [] })]));
    const roots = [];
    for (const p of procs) (by.has(p.ppid) ? by.get(p.ppid).kids : roots).push(p);
    const node = (p) => {
      const argv = (p.argv || []).join(" ") || p.comm || "";
      const status = p.signal ? `killed by ${p.signal}` : p.status !== undefined && p.status !== null ? `exit ${p.status}` : st.live ? "running" : "";
      const kill = st.control && !p.end ? `<button class="kill" type="button" data-kill="${p.pid}" aria-label="kill ${p.pid}">kill</button>` : "";
      return `<li><button class="p" type="button" data-pid="${p.pid}" title="${esc(argv)}">${p.pid} ${esc(argv)}</button>` +
        ` <span class="st">${esc(status)} · ${p.syscalls} calls</span>${kill}` +
        (p.kids.length ? `<ul>${p.kids.map(node).join("")}</ul>` : "") + "</li>";
    };
    const html = roots.map(node).join("");
    if (html !== treeHtml) { $("tree").innerHTML = treeHtml = html; markTree(); }
  }
  function markTree() {
    const pid = $("f-pid").value.trim();
    for (const b of document.querySelectorAll("#tree .p")) {
      const on = b.dataset.pid === pid;
      b.classList.toggle("on", on);
      b.setAttribute("aria-pressed", on);
    }
  }
  $("tree").addEventListener("click", async (ev) => {
    const b = ev.target.closest("button");
    if (!b) return;
    if (b.dataset.kill) {
      try { await post("/api/kill", JSON.stringify({ pid: +b.dataset.kill, signal: "SIGKILL" })); hookMsg(`killed ${b.dataset.kill}`); }
      catch (e) { hookMsg(e.message, true); }
      return;
    }
    $("f-pid").value = $("f-pid").value === b.dataset.pid ? "" : b.dataset.pid;
    filtersChanged();
  });

  /* ---- charts ---- */
  function bars(el, items, label, value, onclick) {
    const max = Math.max(1, ...items.map(value));
    el.innerHTML = items.map((it, i) => `<button type="button" data-i="${i}" title="${esc(label(it))}: ${value(it)}"><span>${esc(label(it))}</span>` +
      `<span class="b" data-w="${(100 * value(it) / max).toFixed(1)}"></span><span class="n">${value(it).toLocaleString()}</span></button>`).join("") || "<span class='n'>none</span>";
    /* widths through the CSSOM: the page's CSP allows no inline style attributes */
    for (const b of el.querySelectorAll(".b")) b.style.width = b.dataset.w + "%";
    el.onclick = (ev) => { const b = ev.target.closest("button"); if (b) onclick(items[+b.dataset.i]); };
  }
  function rate(ps) {
    const c = $("c-rate"), dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = 110;
    c.width = w * dpr; c.height = h * dpr;
    const g = c.getContext("2d");
    g.scale(dpr, dpr);
    const css = getComputedStyle(document.documentElement);
    g.clearRect(0, 0, w, h);
    const data = ps.slice(-300), max = Math.max(1, ...data);
    const bw = w / Math.max(1, data.length);
    g.fillStyle = css.getPropertyValue("--bar");
    data.forEach((v, i) => { const bh = (h - 14) * v / max; g.fillRect(i * bw, h - bh, Math.max(1, bw - 1), bh); });
    g.fillStyle = css.getPropertyValue("--muted");
    g.font = "11px sans-serif";
    g.fillText(`max ${max.toLocaleString()}/s over ${ps.length} s`, 2, 10);
    c.setAttribute("aria-label", `syscalls per second; peak ${max}`);
  }
  let lastStats = null;
  async function loadStats() {
    try { lastStats = await get("/api/stats"); } catch (e) { return; }
    const s = lastStats;
    st.t0 = s.t0;
    rate(s.per_second);
    const setName = (it) => { $("f-name").value = it.name; filtersChanged(); };
    bars($("c-count"), s.top_count.slice(0, 12), (x) => x.name, (x) => x.count, setName);
    bars($("c-time"), s.top_time.slice(0, 12), (x) => x.name, (x) => x.time_us, setName);
    const errs = s.errors_by.sort((a, b) => b.count - a.count).slice(0, 12);
    bars($("c-errs"), errs, (x) => x.errname, (x) => x.count, (it) => { $("f-errors").checked = true; $("f-q").value = it.errname; filtersChanged(); });
  }

  /* ---- hooks ---- */
  function hookMsg(m, bad) { $("hooks-msg").textContent = m; $("hooks-msg").className = bad ? "error" : ""; }
  async function loadHooks() {
    if (!st.control) return;
    try {
      const j = await get("/api/hooks");
      const list = j.payload || [];
      $("hooks").innerHTML = list.map((h, i) => `<li><span>${esc(h.name)} ${esc(h.type)}${h.mode === "notify" ? " (notify)" : ""} ${esc(h.source || "")} · ${h.calls} calls</span>` +
        `<button type="button" data-i="${i}" aria-label="unload ${esc(h.name)} ${esc(h.type)}">unload</button></li>`).join("") || "<li>no hooks</li>";
      $("hooks").onclick = async (ev) => {
        const b = ev.target.closest("button"); if (!b) return;
        const h = list[+b.dataset.i];
        try { await post("/api/hooks/unload", JSON.stringify({ options: "list", list: [{ sysno: h.sysno, type: h.type }] })); hookMsg(`unloaded ${h.name}`); loadHooks(); }
        catch (e) { hookMsg(e.message, true); }
      };
    } catch (e) { hookMsg(e.message, true); }
  }
  $("load").addEventListener("click", async () => {
    try { const j = await post("/api/hooks", $("script").value, "text/plain"); hookMsg(`loaded: ${j.payload && j.payload.hooks_added !== undefined ? j.payload.hooks_added + " hook(s) added" : "ok"}`); loadHooks(); }
    catch (e) { hookMsg(e.message, true); }
  });
  $("unload-all").addEventListener("click", async () => {
    try { const j = await post("/api/hooks/unload", JSON.stringify({ options: "all" })); hookMsg(`unloaded ${j.payload ? j.payload.removed : ""}`); loadHooks(); }
    catch (e) { hookMsg(e.message, true); }
  });
  $("token").value = token;

  /* ---- theme ---- */
  function toggleTheme() {
    const dark = document.documentElement.dataset.theme !== "dark";
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    localStorage.setItem("jvisor-theme", dark ? "dark" : "light");
    if (lastStats) rate(lastStats.per_second);
  }
  $("theme").addEventListener("click", toggleTheme);
  document.documentElement.dataset.theme = localStorage.getItem("jvisor-theme") ||
    (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");

  /* ---- live updates ---- */
  function setStatus() {
    const b = $("status");
    b.textContent = st.live ? "live" : st.ended ? "ended" : "saved log";
    b.className = "badge " + (st.live ? "live" : "ended");
    $("hooks-panel").hidden = !st.control;
  }
  let tick = 0, busy = false;
  async function update() {
    if (busy) return; busy = true;
    try {
      await refreshTotal();
      if (st.follow) toEnd();
      const now = Date.now();
      if (now - tick > 1500) { tick = now; await Promise.all([loadStats(), loadProcs()]); }
    } finally { busy = false; }
  }
  async function start() {
    const info = await get("/api/info");
    st.live = info.live; st.control = info.control; st.ended = info.ended;
    setStatus();
    await loadStats();
    await loadProcs();
    loadHooks();
    resetTable();
    if (st.live) {
      const es = new EventSource(q("/api/stream", { after: info.records }));
      let pending = 0;
      es.addEventListener("records", () => { if (!pending) pending = setTimeout(() => { pending = 0; update(); }, 150); });
      es.onerror = () => {
        /* the server went away (jvisor ended without --web-keep) */
        setTimeout(() => get("/api/info").catch(() => {
          es.close(); st.live = false; st.control = false; setStatus();
          $("status").textContent = "disconnected";
        }), 1500);
      };
      es.addEventListener("ended", () => { st.live = false; st.ended = true; st.control = false; setStatus(); es.close(); tick = 0; update(); loadProcs(); });
    }
    window.addEventListener("resize", () => { render(); if (lastStats) rate(lastStats.per_second); });
    window.jvisorState = st; /* for the browser test */
    document.body.dataset.ready = "1";
  }
  start().catch((e) => { $("status").textContent = e.message; });
})();
