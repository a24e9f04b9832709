// pbftsim serve: the explorer page. Plain JS and SVG, no dependencies,
// nothing loaded from the network: everything comes from the server's API.
"use strict";
const $ = (id) => document.getElementById(id);
const SVGNS = "http://www.w3.org/2000/svg";
let S = { id: null, sum: null, tl: null, st: null, view: null, hideNodes: new Set(), hideTypes: new Set(), job: null, sweep: null };

function setStatus(text, isError) {
  const el = $("status");
  el.textContent = text || "";
  el.className = "status" + (isError ? " error" : "");
}

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) { opt.body = JSON.stringify(body); opt.headers["Content-Type"] = "application/json"; }
  const resp = await fetch(path, opt);
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) {
    const msg = (data && data.error) || resp.statusText;
    setStatus(msg, true);
    throw new Error(msg);
  }
  setStatus("");
  return data;
}

function fmtTime(ns) {
  if (ns < 0) return "never";
  if (ns === 0) return "0s";
  if (ns < 1e3) return ns + "ns";
  if (ns < 1e6) return (ns / 1e3).toFixed(ns % 1e3 ? 3 : 0).replace(/\.?0+$/, "") + "µs";
  if (ns < 1e9) return (ns / 1e6).toFixed(6).replace(/\.?0+$/, "") + "ms";
  return (ns / 1e9).toFixed(9).replace(/\.?0+$/, "") + "s";
}
function nodeName(id) { return (S.sum && S.sum.n && id >= S.sum.n ? "c" : "r") + id; }

async function openSession(req) {
  // Close the session shown, unless it is the sweep whose seeds are opened.
  if (S.id && !(S.sweep && S.sweep.id === S.id)) { try { await api("DELETE", "/api/sessions/" + S.id); } catch (e) {} }
  const sum = await api("POST", "/api/sessions", req);
  await showSession(sum);
  return sum;
}

async function showSession(sum) {
  S.id = sum.id; S.sum = sum; S.hideNodes = new Set(); S.hideTypes = new Set();
  $("title").textContent = sum.name + (sum.seed ? " · seed " + sum.seed : "") + (sum.variant ? " · variant " + sum.variant : "") +
    " · " + sum.steps + " steps" + (sum.ended ? " · " + sum.ended : "");
  $("sweep").hidden = sum.kind !== "sweep";
  $("back-to-sweep").hidden = !(S.sweep && sum.kind !== "sweep");
  $("run").hidden = sum.kind === "sweep";
  if (sum.kind === "sweep") { S.sweep = sum; renderSweep(sum.sweep); return; }
  S.tl = await api("GET", "/api/sessions/" + S.id + "/timeline");
  const end = S.tl.step_times[S.tl.step_times.length - 1] || 1;
  S.view = { t0: 0, t1: Math.max(end, 1) * 1.02 };
  buildFilters();
  S.st = await api("GET", "/api/sessions/" + S.id + "/state");
  render();
}

function renderSweep(sw) {
  const tb = document.querySelector("#sweep-groups tbody");
  tb.innerHTML = "";
  sw.groups.forEach((g, i) => {
    const tr = document.createElement("tr");
    tr.className = "group";
    const seeds = document.createElement("td");
    g.seeds.forEach((s) => {
      const b = document.createElement("button");
      b.textContent = s; b.className = "seed"; b.dataset.seed = s;
      b.onclick = () => openSession({ sweep: S.sweep.id, seed: s }).then(() => gotoReq({ to: "violation" }).catch(() => {}));
      seeds.appendChild(b);
    });
    for (const v of [i + 1, g.property, g.message, g.strategies, g.faults]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    tr.appendChild(seeds);
    tb.appendChild(tr);
  });
  $("title").textContent = sw.file + " · " + sw.failing + " failing seeds in " + sw.groups.length + " groups";
}

function buildFilters() {
  const nf = $("node-filter"), tf = $("type-filter");
  nf.innerHTML = ""; tf.innerHTML = "";
  for (let i = 0; i < (S.sum.nodes || 0); i++) {
    nf.appendChild(checkbox(nodeName(i), () => toggle(S.hideNodes, i)));
  }
  for (const t of S.sum.types || []) tf.appendChild(checkbox(t, () => toggle(S.hideTypes, t)));
}
function checkbox(label, onchange) {
  const l = document.createElement("label");
  const c = document.createElement("input");
  c.type = "checkbox"; c.checked = true; c.onchange = onchange; c.dataset.label = label;
  l.appendChild(c); l.appendChild(document.createTextNode(label + " "));
  return l;
}
function toggle(set, v) { if (set.has(v)) set.delete(v); else set.add(v); drawDiagram(); }

function render() {
  drawDiagram();
  renderState();
}

function el(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawDiagram() {
  const svg = $("diagram");
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  if (!S.tl) return;
  const W = svg.clientWidth || 1000, H = svg.clientHeight || 330, left = 40, right = 10, top = 20;
  const nodes = [];
  for (let i = 0; i < (S.sum.nodes || 0); i++) if (!S.hideNodes.has(i)) nodes.push(i);
  const rowH = (H - top - 10) / Math.max(nodes.length, 1);
  const row = {}; nodes.forEach((n, i) => (row[n] = top + rowH * (i + 0.5)));
  const { t0, t1 } = S.view;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (W - left - right);
  const curT = S.st ? S.st.time_ns : 0, curRecs = S.st ? S.st.records : 0;
  nodes.forEach((n) => {
    svg.appendChild(el("line", { x1: left, x2: W - right, y1: row[n], y2: row[n], stroke: "#999" }));
    svg.appendChild(el("text", { x: 4, y: row[n] + 4, "font-size": 12 }, nodeName(n)));
  });
  const recs = S.tl.records, bySeq = new Map();
  recs.forEach((r) => bySeq.set(r.seq, r));
  let drawn = 0;
  for (const r of recs) {
    if (r.t > t1) break;
    const future = r.seq >= curRecs;
    if ((r.kind === "deliver" || r.kind === "drop") && r.send >= 0) {
      const s = bySeq.get(r.send);
      if (!s || S.hideTypes.has(r.type) || !(r.from in row) || !(r.to in row)) continue;
      if (r.t < t0) continue;
      const y2 = r.kind === "drop" ? (row[r.from] + row[r.to]) / 2 : row[r.to];
      const xe = r.kind === "drop" ? (x(s.t) + x(r.t)) / 2 : x(r.t);
      const line = el("line", { x1: x(s.t), y1: row[r.from], x2: xe, y2: y2, stroke: r.kind === "drop" ? "#c33" : colorOf(r.type),
        "stroke-width": 1, class: "msg" + (future ? " dim" : ""), "data-type": r.type });
      line.appendChild(el("title", {}, r.line));
      svg.appendChild(line);
      if (r.kind === "drop") svg.appendChild(el("text", { x: xe - 3, y: y2 + 4, fill: "#c33", "font-size": 10, class: future ? "dim" : "" }, "x"));
      drawn++;
    } else if (r.kind === "event" || r.kind === "crash" || r.kind === "recover" || r.kind === "timer") {
      const n = r.kind === "timer" ? r.to : r.from;
      if (!(n in row) || r.t < t0) continue;
      const c = el("circle", { cx: x(r.t), cy: row[n], r: r.kind === "event" ? 2.5 : 4,
        fill: r.kind === "crash" ? "#000" : r.kind === "recover" ? "#0a0" : r.kind === "timer" ? "#e90" : "#36c", class: "ev" + (future ? " dim" : "") });
      c.appendChild(el("title", {}, r.line));
      svg.appendChild(c);
    }
  }
  for (const v of S.tl.violations) {
    const t = S.tl.step_times[v.step];
    if (t < t0 || t > t1) continue;
    svg.appendChild(el("line", { x1: x(t), x2: x(t), y1: 0, y2: H, stroke: "#d00", "stroke-width": 2, class: "violation" }));
    const label = v.property + " violated", nearEnd = x(t) > W - 220;
    svg.appendChild(el("text", { x: nearEnd ? x(t) - 3 : x(t) + 3, y: 12, fill: "#d00", "font-size": 11, "text-anchor": nearEnd ? "end" : "start" }, label));
    for (const r of v.replicas || []) {
      if (!(r in row)) continue;
      const c = el("circle", { cx: x(t), cy: row[r], r: 7, fill: "none", stroke: "#d00", "stroke-width": 2, class: "violation-node" });
      c.appendChild(el("title", {}, label + ": " + v.detail));
      svg.appendChild(c);
    }
  }
  svg.appendChild(el("line", { x1: x(curT), x2: x(curT), y1: 0, y2: H, stroke: "#07a", "stroke-dasharray": "4 3", id: "cursor" }));
  svg.dataset.drawn = drawn;
}

const palette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#ff7f0e", "#393b79", "#637939"];
function colorOf(t) { const ts = S.sum.types || []; const i = ts.indexOf(t); return palette[(i < 0 ? 0 : i) % palette.length]; }

function renderState() {
  const st = S.st;
  $("where").textContent = "step " + st.step + " / " + st.steps + " · " + st.time + " · " + st.records + " records · hash " + st.trace_hash + (st.ended ? " · ended: " + st.ended : "");
  $("step-records").textContent = st.step_records.map((r) => r.line).join("\n") || "(before the first step)";
  const vd = $("violations");
  vd.innerHTML = "";
  for (const v of st.violations) {
    const d = document.createElement("div");
    d.className = "v";
    d.textContent = v.property + " violated at step " + v.step + " (" + fmtTime(v.time_ns) + ", view " + v.view + ", seq " + v.seq + ", replicas " + (v.replicas || []).join(",") + "): " + v.detail;
    vd.appendChild(d);
  }
  const rp = $("replicas");
  rp.innerHTML = "";
  for (const r of st.replicas) {
    const s = r.state, d = document.createElement("div");
    d.className = "replica" + (r.down ? " down" : "") + (r.byzantine ? " byz" : "");
    d.dataset.replica = s.id;
    const timers = st.timers.filter((t) => t.node === s.id).map((t) => t.name + "@" + fmtTime(t.at)).join(", ") || "none";
    let html = "<b>r" + s.id + "</b>" + (r.down ? " DOWN" : "") + (r.byzantine ? " BYZANTINE (" + r.byzantine + ")" : "") +
      " · view <span class=view>" + s.view + "</span>" + (s.in_view_change ? " (view change)" : "") + " · primary r" + s.primary +
      " · h=" + s.h + " H=" + s.H + " · executed <span class=executed>" + s.last_executed + "</span> · stable checkpoint " + s.stable_checkpoint +
      " · timers: " + timers + " · ledger: " + (r.ledger || []).length + " payments";
    if (s.log && s.log.length) {
      html += "<table class=log><tr><th>v</th><th>n</th><th>digest</th><th>status</th><th>prepares</th><th>commits</th></tr>";
      for (const e of s.log) {
        const status = e.executed ? "executed" : e.committed ? "committed" : e.prepared ? "prepared" : e.pre_prepared ? "pre-prepared" : "votes only";
        const cls = e.committed ? "committed" : e.prepared ? "prepared" : "";
        html += "<tr><td>" + e.view + "</td><td>" + e.seq + "</td><td>" + (e.digest || "").slice(0, 8) + "</td><td class='" + cls + "'>" + status +
          "</td><td>" + (e.prepares || []).join(",") + "</td><td>" + (e.commits || []).join(",") + "</td></tr>";
      }
      html += "</table>";
    }
    if (s.checkpoints && s.checkpoints.length) {
      html += "checkpoints: " + s.checkpoints.map((c) => "n" + c.seq + (c.mine ? "*" : "") + " (" + c.votes.map((v) => v.replicas.length).join("/") + " votes)").join(", ");
    }
    d.innerHTML = html;
    rp.appendChild(d);
  }
  if (!st.replicas.length && st.notes) rp.textContent = st.notes.join("; ");
  // In flight.
  const fb = document.querySelector("#flights tbody");
  fb.innerHTML = "";
  for (const f of st.in_flight) {
    const tr = document.createElement("tr");
    tr.dataset.msg = f.id;
    const td1 = document.createElement("td"); td1.textContent = f.type + " " + nodeName(f.from) + "→" + nodeName(f.to) + " sent " + fmtTime(f.sent_at);
    td1.title = f.line;
    const td2 = document.createElement("td"); td2.textContent = f.arrives < 0 ? "after the end" : fmtTime(f.arrives) + (f.fate !== "deliver" ? " " + f.fate : "");
    const td3 = document.createElement("td");
    for (const [kind, label] of [["deliver", "deliver next"], ["drop", "drop"], ["duplicate", "dup"]]) {
      const b = document.createElement("button");
      b.textContent = label; b.className = "act-" + kind; b.disabled = !f.driveable; b.title = f.why || "";
      b.onclick = () => act({ kind, msg: f.id });
      td3.appendChild(b);
    }
    tr.append(td1, td2, td3);
    fb.appendChild(tr);
  }
  const tb = document.querySelector("#timers tbody");
  tb.innerHTML = "";
  for (const t of st.timers) {
    const tr = document.createElement("tr");
    const td = document.createElement("td"); td.textContent = nodeName(t.node) + " " + t.name + " (" + t.id + ") at " + fmtTime(t.at);
    const b = document.createElement("button"); b.textContent = "fire now"; b.className = "act-fire";
    b.onclick = () => act({ kind: "fire", node: t.node, timer: t.id });
    const td2 = document.createElement("td"); td2.appendChild(b);
    tr.append(td, td2); tb.appendChild(tr);
  }
  const na = $("node-actions");
  na.innerHTML = "";
  for (let i = 0; i < (S.sum.n || 0); i++) {
    const down = st.down.includes(i);
    const b = document.createElement("button");
    b.textContent = (down ? "recover r" : "crash r") + i; b.className = "act-node";
    b.onclick = () => act({ kind: down ? "recover" : "crash", node: i });
    na.appendChild(b);
  }
  if (S.sum.byzantine && S.sum.byzantine.length) {
    const row = document.createElement("div");
    const who = document.createElement("select"); who.id = "byz-node";
    for (let i = 0; i < (S.sum.n || 0); i++) { const o = document.createElement("option"); o.value = i; o.textContent = "r" + i; who.appendChild(o); }
    const what = document.createElement("select"); what.id = "byz-strategy";
    for (const s of S.sum.byzantine) { const o = document.createElement("option"); o.textContent = s; what.appendChild(o); }
    const b = document.createElement("button"); b.id = "byz-go"; b.textContent = "make Byzantine from now";
    b.onclick = () => act({ kind: "byzantine", node: parseInt(who.value, 10), strategy: what.value });
    row.append(who, what, b);
    na.appendChild(row);
  }
  const sc = $("schedule");
  sc.innerHTML = "";
  for (const a of st.actions) { const li = document.createElement("li"); li.textContent = "step " + a.step + ": " + a.text; sc.appendChild(li); }
  const cur = document.getElementById("cursor");
  if (cur && (st.time_ns < S.view.t0 || st.time_ns > S.view.t1)) {
    const w = S.view.t1 - S.view.t0;
    S.view.t0 = Math.max(0, st.time_ns - w / 2); S.view.t1 = S.view.t0 + w; drawDiagram();
  }
}

async function gotoReq(req) {
  S.st = await api("POST", "/api/sessions/" + S.id + "/goto", req);
  render();
}
async function act(a) {
  S.st = await api("POST", "/api/sessions/" + S.id + "/act", a);
  S.tl = await api("GET", "/api/sessions/" + S.id + "/timeline");
  S.sum = await api("GET", "/api/sessions/" + S.id);
  render();
}

function wire() {
  $("next").onclick = () => gotoReq({ to: "next" });
  $("prev").onclick = () => gotoReq({ to: "prev" });
  $("start").onclick = () => gotoReq({ to: "start" });
  $("end").onclick = () => gotoReq({ to: "end" });
  $("to-violation").onclick = () => gotoReq({ to: "violation" });
  $("to-viewchange").onclick = () => gotoReq({ to: "view-change" });
  $("jump-go").onclick = () => {
    const v = $("jump").value.trim();
    if (v.startsWith("#")) return gotoReq({ to: "record", record: parseInt(v.slice(1), 10) });
    if (v.startsWith("step")) return gotoReq({ to: "step", step: parseInt(v.slice(4), 10) });
    if (v.startsWith("event:")) {
      const [name, node] = v.slice(6).split("@");
      const req = { to: "event", event: name };
      if (node) req.node = parseInt(node.replace(/^[rc]/, ""), 10);
      return gotoReq(req);
    }
    return gotoReq({ to: "time", time: v });
  };
  $("back-to-sweep").onclick = async () => {
    if (S.id && S.id !== S.sweep.id) { try { await api("DELETE", "/api/sessions/" + S.id); } catch (e) {} }
    await showSession(await api("GET", "/api/sessions/" + S.sweep.id));
  };
  $("undo").onclick = async () => {
    S.st = await api("POST", "/api/sessions/" + S.id + "/undo");
    S.tl = await api("GET", "/api/sessions/" + S.id + "/timeline");
    S.sum = await api("GET", "/api/sessions/" + S.id);
    render();
  };
  $("fork").onclick = async () => {
    const r = await api("POST", "/api/sessions/" + S.id + "/fork", { name: $("fork-name").value });
    $("fork-result").textContent = "wrote " + r.path + " (trace hash " + r.trace_hash + ", " + r.verdict + (r.property ? " " + r.property : "") + "): " + r.command;
    $("fork-result").dataset.hash = r.trace_hash;
    $("fork-result").dataset.file = r.file;
    loadForks();
  };
  $("zoom-in").onclick = () => zoom(0.5);
  $("zoom-out").onclick = () => zoom(2);
  $("zoom-fit").onclick = () => { const end = S.tl.step_times[S.tl.step_times.length - 1] || 1; S.view = { t0: 0, t1: end * 1.02 }; drawDiagram(); };
  $("open-file").onclick = () => info && info.file && openSession({ file: info.file });
  $("open-fork").onclick = () => $("forks").value && openSession({ file: $("forks").value });
  $("open-builtin").onclick = () => openSession({ builtin: $("builtin").value.trim() });
  $("job-start").onclick = startJob;
  $("job-open").onclick = async () => { await openSession({ job: S.job }); await gotoReq({ to: "violation" }).catch(() => {}); };
  // Keyboard: right/left arrow = next/previous step (outside text fields).
  window.addEventListener("keydown", (e) => {
    if (!S.id || !S.tl || e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
    if (e.key === "ArrowRight") { e.preventDefault(); gotoReq({ to: "next" }); }
    if (e.key === "ArrowLeft") { e.preventDefault(); gotoReq({ to: "prev" }); }
  });
  const box = $("diagram-box");
  box.addEventListener("wheel", (e) => { e.preventDefault(); zoom(e.deltaY > 0 ? 1.25 : 0.8, e.offsetX / box.clientWidth); }, { passive: false });
  let drag = null;
  box.addEventListener("mousedown", (e) => { drag = { x: e.clientX, v: { ...S.view } }; });
  window.addEventListener("mouseup", () => (drag = null));
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dt = ((e.clientX - drag.x) / box.clientWidth) * (drag.v.t1 - drag.v.t0);
    S.view = { t0: drag.v.t0 - dt, t1: drag.v.t1 - dt }; drawDiagram();
  });
  $("diagram").addEventListener("dblclick", (e) => {
    const box = $("diagram").getBoundingClientRect();
    const t = S.view.t0 + ((e.clientX - box.left - 40) / (box.width - 50)) * (S.view.t1 - S.view.t0);
    gotoReq({ to: "time", time: Math.max(0, Math.round(t)) + "ns" });
  });
}

function zoom(f, at) {
  if (at === undefined) at = 0.5;
  const { t0, t1 } = S.view, w = t1 - t0, c = t0 + w * at, nw = Math.max(w * f, 1000);
  S.view = { t0: Math.max(0, c - nw * at), t1: Math.max(0, c - nw * at) + nw };
  drawDiagram();
}

async function startJob() {
  const kind = $("job-kind").value;
  const req = { kind, budget: $("job-budget").value };
  if (kind === "hunt") req.variant = $("job-variant").value.trim();
  const j = await api("POST", "/api/jobs", req);
  S.job = j.id;
  $("job-open").hidden = true; $("job-progress").hidden = false;
  const poll = async () => {
    const s = await api("GET", "/api/jobs/" + j.id);
    $("job-progress").value = s.progress;
    $("job-status").textContent = kind + ": " + s.cases + " cases, " + s.elapsed + (s.result ? " · " + s.result : "") + (s.error ? " · " + s.error : "");
    if (!s.done) { setTimeout(poll, 500); return; }
    $("job-open").hidden = !s.found;
    loadForks();
  };
  poll();
}

let info = null;
async function loadForks() {
  info = await api("GET", "/api/info");
  const sel = $("forks");
  sel.innerHTML = "";
  for (const f of info.forks) { const o = document.createElement("option"); o.textContent = f; sel.appendChild(o); }
  $("open-file").hidden = !info.file;
}

window.addEventListener("error", (e) => setStatus("page error: " + e.message, true));
window.addEventListener("unhandledrejection", (e) => setStatus("page error: " + (e.reason && e.reason.message || e.reason), true));

window.addEventListener("load", async () => {
  wire();
  await loadForks();
  const q = new URLSearchParams(location.search);
  const open = q.get("open") || info.file;
  if (open) {
    try { await openSession(info.file === open ? { file: open } : { builtin: open }); } catch (e) { setStatus("page error: " + e.message, true); }
  }
});
