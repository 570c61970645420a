// The HTML report's stylesheet and script, inlined into every report (no network: the page loads
// nothing). The script reads the report document from the page's JSON block and builds the page
// with createElement and textContent only: no text of the document is ever parsed as HTML.
// Plain ES5-level JavaScript in a string, so the page is the same whichever tool built ifsim.

/** The page's stylesheet. */
export const PAGE_CSS = `
:root { --fg: #1d2330; --dim: #5b6475; --line: #d8dce4; --bg: #ffffff; --alt: #f5f7fa;
  --pass: #1a7f37; --passbg: #dafbe1; --fail: #b42318; --failbg: #ffebe9; --warn: #9a6700;
  --warnbg: #fff8c5; --info: #57606a; --infobg: #eaeef2; --sel: #fff3b0; --hover: #eef4ff; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 40px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI",
  Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
h4 { font-size: 13px; margin: 14px 0 4px; color: var(--dim); text-transform: uppercase;
  letter-spacing: .04em; }
.lines { margin: 0 0 8px; color: var(--dim); font-family: ui-monospace, "DejaVu Sans Mono", monospace;
  font-size: 12px; white-space: pre-wrap; word-break: break-all; }
.verdicts { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.verdict { display: inline-block; padding: 2px 8px; border-radius: 10px; font-size: 13px; }
.verdict b { margin-right: 4px; }
.verdict.pass { color: var(--pass); background: var(--passbg); }
.verdict.fail { color: var(--fail); background: var(--failbg); }
.verdict.warn { color: var(--warn); background: var(--warnbg); }
.verdict.info { color: var(--info); background: var(--infobg); }
.panels { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; padding-bottom: 8px; }
.panel { flex: 1 1 440px; min-width: 0; border: 1px solid var(--line); border-radius: 6px;
  padding: 10px 12px; background: var(--bg); }
.scroll { overflow-x: auto; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0 10px; margin: 6px 0;
  font-size: 12px; }
.facts dt { color: var(--dim); }
.facts dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.facts dd.long { max-height: 3.2em; overflow: auto; }
table { border-collapse: collapse; font-size: 12px; }
th, td { padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--alt); border-bottom: 1px solid var(--line); font-weight: 600; }
.mono, table.links td, table.lanes td.n, table.lanes td.t { font-family: ui-monospace,
  "DejaVu Sans Mono", monospace; }
table.lanes { width: 100%; table-layout: fixed; }
table.lanes th.lane { border-left: 2px solid var(--line); }
table.lanes td.cell { border-left: 2px solid var(--line); word-break: break-word; }
table.lanes th.n { width: 3.4em; } table.lanes th.t { width: 6.6em; }
table.lanes td.n { color: var(--dim); text-align: right; }
table.lanes td.t { color: var(--dim); }
table.lanes tr.row { cursor: pointer; border-bottom: 1px solid var(--alt); }
table.lanes tr.row:hover, table.lanes tr.row:focus { background: var(--hover); outline: none; }
table.lanes tr.row.selected { background: var(--sel); }
table.lanes tr.row.failing td.n { color: var(--fail); font-weight: 700; }
td.cell .what { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
td.cell .res { font-weight: 600; margin-left: 4px; }
td.cell .res.ok { color: var(--pass); }
td.cell .res.bad { color: var(--fail); }
td.cell .cause { color: var(--fail); font-size: 11px; margin-top: 2px; }
.statebox { position: sticky; top: 0; z-index: 1; background: var(--bg); border: 1px solid var(--line);
  border-radius: 4px; padding: 6px 8px; margin: 8px 0; height: 15em; max-height: 45vh;
  overflow: auto; resize: vertical; }
.statebox .caption { font-size: 12px; color: var(--dim); margin-bottom: 4px; word-break: break-all; }
.statebox .caption b { color: var(--fg); }
.statebox table.links { font-size: 11px; }
table.links tr.changed td { background: var(--passbg); }
table.links tr.gone td { background: var(--failbg); text-decoration: line-through; }
table.steps { width: 100%; table-layout: fixed; }
table.steps th.c0 { width: 2.4em; } table.steps th.c1 { width: 24%; } table.steps th.c2 { width: 26%; }
table.steps td { word-break: break-word; }
table.steps td.events { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px;
  color: var(--dim); white-space: pre-wrap; word-break: break-all; }
table.steps tr[data-state] { cursor: pointer; }
table.steps tr.selected { background: var(--sel); }
.ok { color: var(--pass); } .bad { color: var(--fail); } .skip { color: var(--warn); }
.notes { font-size: 12px; color: var(--dim); }
.diffs { font-size: 12px; }
.diffs .where { font-weight: 600; margin-top: 8px; }
.diffs pre { margin: 2px 0 6px 12px; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
.diffs .minus { color: var(--fail); } .diffs .plus { color: var(--pass); }
.empty { color: var(--dim); font-style: italic; }
`;

/** The page's script: builds the report from the JSON block (see the file's header). */
export const PAGE_JS = `
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("ifsim-data").textContent);
  var NAT = ["unknown", "enum", "predictable", "user", "renamed"];
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function secs(us) { return us === null || us === undefined ? "" : (us / 1e6).toFixed(6); }
  function badge(v) {
    var s = el("span", "verdict " + v.status);
    if (v.label !== "") add(s, el("b", null, v.label));
    add(s, document.createTextNode(v.text));
    return s;
  }
  function linkKey(l) { return JSON.stringify(l); }
  function linkTable(links, prev) {
    var t = el("table", "links");
    var head = add(add(t, el("thead")), el("tr"));
    ["idx", "name", "state", "master", "name_assign_type", "address", "mtu", "flags", "portname"]
      .forEach(function (h) { add(head, el("th", null, h)); });
    var body = add(t, el("tbody"));
    var before = {};
    if (prev) prev.forEach(function (l) { before[l.ifindex] = l; });
    var now = {};
    links.forEach(function (l) {
      now[l.ifindex] = true;
      var tr = add(body, el("tr"));
      tr.setAttribute("data-ifindex", String(l.ifindex));
      if (prev && (!before[l.ifindex] || linkKey(before[l.ifindex]) !== linkKey(l))) tr.className = "changed";
      var nat = NAT[l.name_assign_type];
      [String(l.ifindex), l.ifname, l.operstate, l.master === null ? "-" : l.master,
        nat === undefined ? String(l.name_assign_type) : l.name_assign_type + " " + nat,
        l.address, String(l.mtu), "<" + l.flags.join(",") + ">", l.portname === null ? "-" : l.portname]
        .forEach(function (c) { add(tr, el("td", null, c)); });
    });
    if (prev) prev.forEach(function (l) {
      if (now[l.ifindex]) return;
      var tr = add(body, el("tr", "gone"));
      [String(l.ifindex), l.ifname, "(gone)", "", "", "", "", "", ""]
        .forEach(function (c) { add(tr, el("td", null, c)); });
    });
    return t;
  }
  function facts(parent, list) {
    if (!list.length) return;
    var dl = add(parent, el("dl", "facts"));
    list.forEach(function (f) {
      add(dl, el("dt", null, f[0]));
      add(dl, el("dd", f[1].length > 120 ? "long" : null, f[1]));
    });
  }
  function panelView(p) {
    var box = el("div", "panel");
    add(box, el("h3", null, p.title));
    if (p.verdict) add(add(box, el("div", "verdicts")), badge(p.verdict));
    facts(box, p.facts);
    p.notes.forEach(function (n) { add(box, el("p", "notes", n)); });
    var state = null;
    // The state box sticks to the top of the window while the lanes and the steps scroll by
    // (its section ends after them, so it never covers the expectations or the final links).
    var sec = add(box, el("div", "lanesec"));
    var pinned = null;
    var prevOf = {};
    function show(sel) {
      if (!state) return;
      state.textContent = "";
      var cap = add(state, el("div", "caption"));
      if (sel === null) {
        if (p.initial === null) { cap.textContent = "no link state recorded"; return; }
        add(cap, el("b", null, "at the start"));
        add(cap, document.createTextNode(" (click or hover over a line for the links after it)"));
        add(state, linkTable(p.states[p.initial], null));
        return;
      }
      add(cap, el("b", null, sel.label));
      add(cap, document.createTextNode(" \\u2014 " + p.stateNote + "; changed links are green"));
      add(state, linkTable(p.states[sel.state], sel.prev === null ? null : p.states[sel.prev]));
    }
    function pick(sel, tr) {
      var old = box.querySelectorAll("tr.selected");
      for (var i = 0; i < old.length; i++) old[i].classList.remove("selected");
      tr.classList.add("selected");
      pinned = sel;
      show(sel);
    }
    function wire(tr, sel) {
      tr.setAttribute("tabindex", "0");
      tr.setAttribute("data-state", String(sel.state));
      tr.addEventListener("click", function () { pick(sel, tr); });
      tr.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pick(sel, tr); }
      });
      tr.addEventListener("mouseenter", function () { show(sel); });
      tr.addEventListener("mouseleave", function () { show(pinned); });
    }
    if (p.lanes.length) {
      var clocked = p.rows.some(function (r) { return r.t !== null; });
      add(sec, el("h4", null, clocked || !p.rows.length ? "swim lanes (virtual clock)" : "steps in order (a real kernel: no virtual clock)"));
      if (p.states.length) state = add(sec, el("div", "statebox"));
      var t = add(sec, el("table", "lanes"));
      var hr = add(add(t, el("thead")), el("tr"));
      add(hr, el("th", "n", "#"));
      add(hr, el("th", "t", "t (s)"));
      p.lanes.forEach(function (l) {
        var th = add(hr, el("th", "lane", p.laneTitles[l] || l));
        th.setAttribute("data-lane", l);
      });
      var tb = add(t, el("tbody"));
      var last = p.initial;
      var lastN = null;
      p.rows.forEach(function (r) {
        var tr = add(tb, el("tr", "row" + (r.failing ? " failing" : "")));
        tr.setAttribute("data-n", String(r.n));
        tr.setAttribute("data-lane", r.lane);
        add(tr, el("td", "n", r.n === lastN ? "" : (r.failing ? "\\u2717 " : "") + r.n));
        add(tr, el("td", "t", r.n === lastN ? "" : secs(r.t)));
        p.lanes.forEach(function (l) {
          var td = add(tr, el("td", "cell"));
          if (l !== r.lane) return;
          add(td, el("span", "what", r.what));
          if (r.result !== "") add(td, el("span", "res " + (r.ok && r.cause === undefined ? "ok" : "bad"), "\\u2192 " + r.result));
          if (r.cause !== undefined) add(td, el("div", "cause", "because " + r.cause));
        });
        if (r.state !== undefined) {
          var prev = r.n === lastN ? prevOf[r.n] : last;
          prevOf[r.n] = prev;
          wire(tr, { state: r.state, prev: prev === undefined ? null : prev,
            label: "after #" + r.n + (r.t === null ? "" : " at " + secs(r.t) + " s") + " (" + r.lane + ")" });
          last = r.state;
        }
        lastN = r.n;
      });
      if (!p.rows.length) add(sec, el("p", "empty", "no steps"));
      show(null);
    }
    if (p.steps.length) {
      add(sec, el("h4", null, "steps"));
      var st = add(sec, el("table", "steps"));
      var sh = add(add(st, el("thead")), el("tr"));
      ["#", "step", "result", "ip monitor link"].forEach(function (h, i) { add(sh, el("th", "c" + i, h)); });
      var sb = add(st, el("tbody"));
      var prevS = p.initial;
      p.steps.forEach(function (s) {
        var tr = add(sb, el("tr"));
        add(tr, el("td", "mono", s.index));
        add(tr, el("td", "mono", s.step));
        var res = add(tr, el("td", s.ok ? "ok" : "bad", s.result));
        if (s.cause !== undefined) add(res, el("div", "cause bad", "because " + s.cause));
        add(tr, el("td", "events", s.events.join("\\n")));
        if (s.state !== undefined && state) {
          wire(tr, { state: s.state, prev: prevS, label: "after step " + s.index + " (" + s.step + ")" });
          prevS = s.state;
        }
      });
    }
    if (p.expectations.length) {
      add(box, el("h4", null, "expectations"));
      var ul = add(box, el("ul", "expectations"));
      p.expectations.forEach(function (e) {
        var li = add(ul, el("li"));
        add(li, el("b", e.ok === null ? "skip" : e.ok ? "ok" : "bad", e.ok === null ? "SKIP" : e.ok ? "PASS" : "FAIL"));
        add(li, document.createTextNode(" " + e.expect + ": " + e.detail));
      });
    }
    if (p.finalLinks) {
      add(box, el("h4", null, "final links"));
      add(add(box, el("div", "scroll")), linkTable(p.finalLinks, null));
    }
    return box;
  }
  function diffsView(ds) {
    var box = el("div", "diffs");
    if (!ds.length) { add(box, el("p", "ok", "no differences")); return box; }
    var where = null;
    ds.forEach(function (d) {
      if (d.where !== where) { add(box, el("div", "where", d.where)); where = d.where; }
      if (d.diff) {
        add(box, el("div", null, d.field + " (model " + d.model + ", kernel " + d.kernel + "; - model only, + kernel only)"));
        var pre = add(box, el("pre"));
        d.diff.forEach(function (l) {
          add(pre, el("div", l.charAt(0) === "-" ? "minus" : l.charAt(0) === "+" ? "plus" : null, l));
        });
      } else {
        add(box, el("div", null, d.field));
        var pre2 = add(box, el("pre"));
        add(pre2, el("div", "minus", "model:  " + d.model));
        add(pre2, el("div", "plus", "kernel: " + d.kernel));
      }
    });
    return box;
  }
  var root = document.getElementById("report");
  document.title = doc.title + " \\u2014 ifsim " + doc.kind;
  add(root, el("h1", null, doc.title));
  add(root, el("div", "lines", doc.lines.join("\\n")));
  var vs = add(root, el("div", "verdicts"));
  doc.verdicts.forEach(function (v) { add(vs, badge(v)); });
  doc.groups.forEach(function (g) {
    var sec = add(root, el("section", "group"));
    add(sec, el("h2", null, g.title));
    if (g.verdict) add(add(sec, el("div", "verdicts")), badge(g.verdict));
    if (g.note) add(sec, el("p", "notes", g.note));
    if (g.panels.length) {
      var ps = add(sec, el("div", "panels"));
      g.panels.forEach(function (p) { add(ps, panelView(p)); });
    }
    if (g.differences) {
      add(sec, el("h4", null, "model vs kernel"));
      add(sec, diffsView(g.differences));
    }
  });
  root.setAttribute("data-ready", "1");
})();
`;
