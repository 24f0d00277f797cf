// Skiff console: plain JavaScript, no build step. Every value from the broker
// is inserted with textContent (never innerHTML), so a message holding
// <script> is shown as text and never run.
"use strict";

(function () {
  const app = () => document.getElementById("app");
  let refreshTimer = null;
  let brokerInfo = null;

  // el("td", {class: "num"}, "text", childNode, ...): children are strings
  // (inserted as text nodes) or nodes.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null) continue;
      e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  async function api(path, opts) {
    const o = Object.assign({ headers: {} }, opts || {});
    if (o.body !== undefined) {
      o.headers["Content-Type"] = "application/json";
      o.body = JSON.stringify(o.body);
    }
    const r = await fetch(path, o);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!r.ok) throw new Error((data && data.error) || r.status + " " + r.statusText);
    return data;
  }

  function fmtBytes(n) {
    if (n === null || n === undefined) return "–";
    const u = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  function fmtDuration(ms) {
    const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m " + (s % 60) + "s";
  }
  function fmtTime(ts) {
    if (ts === null || ts === undefined || ts < 0) return "–";
    try { return new Date(ts).toISOString().replace("T", " ").replace("Z", " UTC"); } catch (e) { return String(ts); }
  }
  function card(k, v, id) { return el("div", { class: "card" }, el("div", { class: "k" }, k), el("div", { class: "v", id: id }, v)); }
  function table(headers, rows, id) {
    return el("table", { id: id },
      el("thead", {}, el("tr", {}, headers.map(h => el("th", { class: h.startsWith("#") ? "num" : null }, h.replace(/^#/, ""))))),
      el("tbody", {}, rows));
  }
  function td(v, cls) { return el("td", { class: cls }, v); }
  function errorBox(e) { return el("div", { class: "error", id: "error" }, String(e.message || e)); }
  function status(t) { document.getElementById("status").textContent = t; }

  // A key/value/header as the API shows it: {size, encoding, text, truncated} or null.
  function shown(v, cls) {
    if (v === null || v === undefined) return el("span", { class: "null " + cls }, "null");
    return el("div", { class: cls },
      el("span", { class: "badge " + v.encoding }, v.encoding),
      v.schema_id !== undefined ? el("span", { class: "badge schema-id" }, "schema " + v.schema_id) : null,
      v.truncated ? el("span", { class: "trunc" }, "truncated: " + fmtBytes(v.size) + " in full") : el("span", { class: "muted" }, fmtBytes(v.size)),
      el("pre", { class: "enc-" + v.encoding }, v.text));
  }

  function parseHash() {
    const h = decodeURI(location.hash.replace(/^#/, "")) || "/";
    const [path, query] = h.split("?");
    const params = new URLSearchParams(query || "");
    return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params };
  }

  async function route() {
    if (refreshTimer) { clearInterval(refreshTimer); refreshTimer = null; }
    const { parts, params } = parseHash();
    const root = app();
    try {
      if (!brokerInfo) brokerInfo = await api("/api/broker");
      if (parts[0] === "topics") await viewTopics(root);
      else if (parts[0] === "topic" && parts[1]) await viewTopic(root, parts[1], params);
      else if (parts[0] === "groups") await viewGroups(root);
      else if (parts[0] === "group" && parts[1]) await viewGroup(root, parts[1]);
      else if (parts[0] === "schemas") await viewSchemas(root);
      else if (parts[0] === "schema" && parts[1]) await viewSchema(root, parts[1], params);
      else await viewBroker(root);
    } catch (e) {
      root.replaceChildren(errorBox(e));
    }
  }

  // -- Broker ---------------------------------------------------------------------
  async function viewBroker(root) {
    const b = await api("/api/broker");
    brokerInfo = b;
    root.replaceChildren(
      el("h1", {}, "Broker"),
      el("div", { class: "cards" },
        card("Version", b.version, "broker-version"),
        card("Uptime", fmtDuration(b.uptime_ms)),
        card("Topics", b.topic_count),
        card("Consumer groups", b.group_count),
        card("Log size", fmtBytes(b.log_bytes)),
        card("Disk free", fmtBytes(b.disk_free_bytes) + " of " + fmtBytes(b.disk_total_bytes)),
        card("Read-only console", b.read_only ? "yes" : "no")),
      table(["Fact", "Value"], [
        ["Node id", b.node_id], ["Cluster id", b.cluster_id], ["Data dir", b.data_dir],
        ["Kafka listener", b.listener], ["Advertised", b.advertised_listener], ["HTTP listener", b.http_listener],
        ["Started", fmtTime(b.start_time_ms)],
      ].map(([k, v]) => el("tr", {}, td(k), td(v)))),
      el("h2", {}, "Configuration"),
      table(["Key", "Value", "Source", "Default"], b.config.map(c =>
        el("tr", { title: c.doc }, td(c.name), td(c.value === null ? "(unset)" : c.value), td(c.source), td(c.default === null ? "(unset)" : c.default))), "config"));
  }

  // -- Topics -----------------------------------------------------------------------
  async function viewTopics(root) {
    const t = await api("/api/topics");
    const rows = t.topics.map(x => el("tr", {},
      td(el("a", { href: "#/topic/" + encodeURIComponent(x.name), class: "topic-link" }, x.name)),
      td(x.partition_count, "num"), td(x.messages, "num"), td(fmtBytes(x.size_bytes), "num"), td(x.internal ? "internal" : "")));
    const nodes = [el("h1", {}, "Topics"), table(["Name", "#Partitions", "#Messages", "#Size", ""], rows, "topics")];
    if (!brokerInfo.read_only) {
      const name = el("input", { name: "name", required: true, placeholder: "orders" });
      const parts = el("input", { name: "partitions", type: "number", min: 1, value: 1 });
      const configs = el("input", { name: "configs", placeholder: "retention.ms=86400000, cleanup.policy=compact" });
      nodes.push(el("h2", {}, "Create a topic"), el("form", { id: "create-topic", onsubmit: async ev => {
        ev.preventDefault();
        const cfg = {};
        configs.value.split(",").map(s => s.trim()).filter(Boolean).forEach(kv => { const i = kv.indexOf("="); if (i > 0) cfg[kv.slice(0, i).trim()] = kv.slice(i + 1).trim(); });
        try {
          await api("/api/topics", { method: "POST", body: { name: name.value, partitions: Number(parts.value), configs: cfg } });
          location.hash = "#/topic/" + encodeURIComponent(name.value);
        } catch (e) { root.appendChild(errorBox(e)); }
      } }, el("label", {}, "Name", name), el("label", {}, "Partitions", parts), el("label", {}, "Configs (k=v, …)", configs), el("button", { type: "submit" }, "Create")));
    }
    root.replaceChildren(...nodes);
  }

  async function viewTopic(root, name, params) {
    const t = await api("/api/topics/" + encodeURIComponent(name));
    const p = Number(params.get("p") || 0);
    const nodes = [
      el("h1", {}, "Topic ", el("span", { id: "topic-name" }, t.name)),
      el("div", { class: "cards" }, card("Partitions", t.partition_count), card("Messages", t.messages), card("Size", fmtBytes(t.size_bytes)), card("Id", t.id)),
      el("h2", {}, "Partitions"),
      table(["#Partition", "#Log start", "#High watermark", "#Messages", "#Size", "#Segments", ""], t.partitions.map(x => el("tr", {},
        td(x.partition, "num"), td(x.log_start_offset, "num"), td(x.high_watermark, "num"), td(x.messages, "num"), td(fmtBytes(x.size_bytes), "num"), td(x.segment_count, "num"),
        td(el("a", { href: "#/topic/" + encodeURIComponent(name) + "?p=" + x.partition + "&latest=20" }, "latest 20"))))),
      el("h2", {}, "Messages"),
      browserControls(name, t, p, params),
      el("div", { id: "messages" }, el("p", { class: "muted" }, "Loading…")),
    ];
    if (!brokerInfo.read_only && !t.internal) nodes.push(produceForm(name, t, p));
    nodes.push(el("details", {}, el("summary", {}, "Topic configuration"),
      table(["Key", "Value", "Source"], t.configs.map(c => el("tr", {}, td(c.name), td(c.value), td(c.source))), "topic-configs")));
    if (!brokerInfo.read_only && !t.internal) {
      nodes.push(el("p", {}, el("button", { class: "danger", id: "delete-topic", onclick: async () => {
        if (!confirm("Delete topic " + name + " and all its messages?")) return;
        try { await api("/api/topics/" + encodeURIComponent(name), { method: "DELETE" }); location.hash = "#/topics"; }
        catch (e) { root.appendChild(errorBox(e)); }
      } }, "Delete topic")));
    }
    root.replaceChildren(...nodes);
    await loadMessages(name, p, params);
  }

  function browserControls(name, t, p, params) {
    const part = el("select", { name: "partition" }, t.partitions.map(x => el("option", { value: x.partition, selected: x.partition === p }, String(x.partition))));
    const mode = el("select", { name: "mode" },
      el("option", { value: "latest", selected: params.has("latest") || !(params.has("offset") || params.has("ts")) }, "latest N"),
      el("option", { value: "offset", selected: params.has("offset") }, "from offset"),
      el("option", { value: "ts", selected: params.has("ts") }, "from timestamp"));
    const at = el("input", { name: "at", placeholder: "offset or 2024-01-01T00:00:00Z", value: params.get("offset") || (params.get("ts") ? new Date(Number(params.get("ts"))).toISOString() : "") });
    const limit = el("input", { name: "limit", type: "number", min: 1, max: 100, value: params.get("limit") || params.get("latest") || 20 });
    return el("form", { class: "controls", id: "browse", onsubmit: ev => {
      ev.preventDefault();
      const q = new URLSearchParams({ p: part.value });
      if (mode.value === "latest") q.set("latest", limit.value);
      else if (mode.value === "offset") { q.set("offset", at.value || "0"); q.set("limit", limit.value); }
      else { const ts = /^\d+$/.test(at.value) ? Number(at.value) : Date.parse(at.value); q.set("ts", isNaN(ts) ? 0 : ts); q.set("limit", limit.value); }
      location.hash = "#/topic/" + encodeURIComponent(name) + "?" + q.toString();
    } }, el("label", {}, "Partition", part), el("label", {}, "Show", mode), el("label", {}, "Offset / time", at), el("label", {}, "Page size", limit), el("button", { type: "submit" }, "Load"));
  }

  async function loadMessages(name, p, params) {
    const box = document.getElementById("messages");
    const q = new URLSearchParams();
    if (params.has("offset")) q.set("offset", params.get("offset"));
    else if (params.has("ts")) q.set("timestamp", params.get("ts"));
    else q.set("latest", params.get("latest") || 20);
    if (params.has("limit")) q.set("limit", params.get("limit"));
    let page;
    try { page = await api("/api/topics/" + encodeURIComponent(name) + "/partitions/" + p + "/messages?" + q.toString()); }
    catch (e) { box.replaceChildren(errorBox(e)); return; }
    const link = off => "#/topic/" + encodeURIComponent(name) + "?p=" + p + "&offset=" + off + "&limit=" + page.limit;
    const pager = el("div", { class: "controls" },
      el("button", { class: "secondary", id: "prev-page", disabled: page.prev_offset === null, onclick: () => { location.hash = link(page.prev_offset); } }, "← Older"),
      el("button", { class: "secondary", id: "next-page", disabled: page.next_offset === null, onclick: () => { location.hash = link(page.next_offset); } }, "Newer →"),
      el("span", { class: "muted" }, "partition " + p + ", offsets " + page.log_start_offset + "–" + page.high_watermark + ", showing " + page.messages.length + " from " + page.from_offset));
    const rows = page.messages.map(m => m.error
      ? el("tr", {}, td(m.offset, "num"), el("td", { colspan: 4, class: "error" }, m.error))
      : el("tr", { class: "message", "data-offset": m.offset },
        td(m.offset, "num msg-offset"),
        td(fmtTime(m.timestamp) + (m.timestamp_type === "LogAppendTime" ? " (append)" : ""), "msg-time"),
        el("td", {}, shown(m.key, "msg-key")),
        el("td", { class: "msg-headers" }, m.headers.length ? m.headers.map(h => el("div", { class: "hdr" }, el("b", {}, h.key), ": ", shown(h.value, "hdr-value"))) : el("span", { class: "muted" }, "–")),
        el("td", {}, shown(m.value, "msg-value"))));
    box.replaceChildren(pager, page.messages.length
      ? table(["#Offset", "Timestamp", "Key", "Headers", "Value"], rows, "message-table")
      : el("p", { class: "muted", id: "no-messages" }, "No messages here."));
  }

  function produceForm(name, t, p) {
    const part = el("select", { name: "partition" }, t.partitions.map(x => el("option", { value: x.partition, selected: x.partition === p }, String(x.partition))));
    const key = el("input", { name: "key", placeholder: "key (empty = null)" });
    const value = el("textarea", { name: "value", placeholder: "{\"hello\": \"world\"}" });
    const headers = el("textarea", { name: "headers", placeholder: "one header per line: name=value" });
    const out = el("span", { class: "muted", id: "produce-result" });
    return el("div", {}, el("h2", {}, "Produce a test message"), el("form", { id: "produce", onsubmit: async ev => {
      ev.preventDefault();
      const hs = headers.value.split("\n").map(s => s.trim()).filter(Boolean).map(l => { const i = l.indexOf("="); return i < 0 ? { key: l, value: null } : { key: l.slice(0, i), value: l.slice(i + 1) }; });
      try {
        const r = await api("/api/topics/" + encodeURIComponent(name) + "/messages", { method: "POST", body: { partition: Number(part.value), key: key.value === "" ? null : key.value, value: value.value, headers: hs } });
        out.textContent = "written at offset " + r.offset;
        await loadMessages(name, Number(part.value), new URLSearchParams({ latest: 20 }));
      } catch (e) { out.textContent = String(e.message || e); }
    } }, el("label", {}, "Partition", part), el("label", {}, "Key", key), el("label", {}, "Value", value), el("label", {}, "Headers", headers), el("button", { type: "submit" }, "Produce"), out));
  }

  // -- Groups -----------------------------------------------------------------------
  function lagCell(l) { return td(l, "num " + (l > 0 ? "lag-pos" : "lag-zero")); }

  async function viewGroups(root) {
    const draw = async () => {
      const g = await api("/api/groups");
      root.replaceChildren(el("h1", {}, "Groups"),
        g.groups.length ? table(["Group", "Type", "State", "Protocol", "#Epoch", "#Members", "#Total lag"], g.groups.map(x => el("tr", {},
          td(el("a", { href: "#/group/" + encodeURIComponent(x.group_id), class: "group-link" }, x.group_id)),
          td(x.group_type || "classic", "group-type"), td(x.state), td(x.protocol || x.protocol_type || "–"),
          td(x.group_epoch === undefined ? "–" : x.group_epoch, "num"), td(x.member_count, "num"), lagCell(x.total_lag))), "groups")
          : el("p", { class: "muted" }, "No consumer groups yet."));
      status("updated " + new Date().toLocaleTimeString());
    };
    await draw();
    refreshTimer = setInterval(() => draw().catch(e => status(String(e.message || e))), 2000);
  }

  function parts(list) { return (list || []).map(a => a.topic + ": [" + a.partitions.join(", ") + "]").join("; ") || "–"; }

  // A KIP-848 consumer group or a KIP-932 share group: epochs, member states, share-partitions.
  function groupNew(g) {
    const share = g.group_type === "share";
    const members = share
      ? table(["Member", "#Epoch", "Client id", "Host", "Subscribed", "Assignment"], g.members.map(m => el("tr", {},
          td(m.member_id), td(m.member_epoch, "num"), td(m.client_id), td(m.client_host),
          td((m.subscribed_topic_names || []).join(", ") || "–"), td(parts(m.assignment)))), "members")
      : table(["Member", "#Epoch", "State", "Client id", "Host", "Assigned", "Pending revocation", "Pending assignment"], g.members.map(m => el("tr", {},
          td(m.member_id), td(m.member_epoch, "num"), td(m.member_state, "member-state"), td(m.client_id), td(m.client_host),
          td(parts(m.assignment)), td(parts(m.pending_revocation)), td(parts(m.pending_assignment)))), "members");
    const out = [
      el("h1", {}, "Group ", el("span", { id: "group-id" }, g.group_id)),
      el("div", { class: "cards" }, card("Type", g.group_type, "group-type"), card("State", g.state, "group-state"),
        card("Assignor", g.protocol || "–"), card("Group epoch", g.group_epoch, "group-epoch"),
        card("Assignment epoch", g.assignment_epoch, "assignment-epoch"), card("Members", g.members.length)),
      el("h2", {}, "Members"),
      g.members.length ? members : el("p", { class: "muted" }, "No members.")];
    if (share) {
      out.push(el("h2", {}, "Share-partitions"),
        table(["Topic", "#Partition", "#Start offset", "#End offset", "#In flight", "#Acquired", "#Available", "#Acknowledged", "#Archived"],
          g.share_partitions.map(p => el("tr", {}, td(p.topic), td(p.partition, "num"), td(p.start_offset, "num"), td(p.end_offset, "num"),
            td(p.in_flight, "num"), td(p.acquired, "num"), td(p.available, "num"), td(p.acknowledged, "num"), td(p.archived, "num"))), "share-partitions"));
    } else {
      out.push(el("div", { class: "cards" }, card("Total lag", g.total_lag, "total-lag")));
    }
    return out;
  }

  async function viewGroup(root, id) {
    const draw = async () => {
      const g = await api("/api/groups/" + encodeURIComponent(id));
      if (g.group_type === "consumer" || g.group_type === "share") {
        root.replaceChildren(...groupNew(g));
        if (g.group_type === "consumer") root.appendChild(offsetsTable(g));
        status("updated " + new Date().toLocaleTimeString() + " (every 2 s)");
        return;
      }
      root.replaceChildren(
        el("h1", {}, "Group ", el("span", { id: "group-id" }, g.group_id)),
        el("div", { class: "cards" }, card("State", g.state, "group-state"), card("Protocol", (g.protocol_type || "–") + (g.protocol ? " / " + g.protocol : "")),
          card("Members", g.members.length), card("Total lag", g.total_lag, "total-lag")),
        el("h2", {}, "Members"),
        g.members.length ? table(["Member", "Client id", "Host", "Assignment"], g.members.map(m => el("tr", {},
          td(m.member_id), td(m.client_id), td(m.client_host),
          td(m.assignment.map(a => a.topic + ": [" + a.partitions.join(", ") + "]").join("; ") || "–"))), "members")
          : el("p", { class: "muted" }, "No members."),
        offsetsTable(g));
      status("updated " + new Date().toLocaleTimeString() + " (every 2 s)");
    };
    await draw();
    refreshTimer = setInterval(() => draw().catch(e => status(String(e.message || e))), 2000);
  }

  function offsetsTable(g) {
    return el("div", {}, el("h2", {}, "Committed offsets and lag"),
      table(["Topic", "#Partition", "#Committed", "#Log end", "#Lag", "Member"], g.offsets.map(o => el("tr", { class: "lag-row" },
        td(el("a", { href: "#/topic/" + encodeURIComponent(o.topic) + "?p=" + o.partition + "&offset=" + o.committed_offset }, o.topic)),
        td(o.partition, "num"), td(o.committed_offset, "num"), td(o.log_end_offset, "num"), lagCell(o.lag), td(o.member_id || "–"))), "offsets"));
  }

  // -- Schemas (the built-in Schema Registry) ---------------------------------------
  async function viewSchemas(root) {
    const r = await api("/api/schemas");
    const rows = r.subjects.map(x => el("tr", { class: x.deleted ? "muted" : "" },
      td(el("a", { href: "#/schema/" + encodeURIComponent(x.subject), class: "subject-link" }, x.subject)),
      td(x.schema_type || "–"), td(x.latest_version === null ? "deleted" : x.latest_version, "num"),
      td(x.latest_id === null ? "–" : x.latest_id, "num"), td(x.versions, "num"), td(x.compatibility || "–")));
    root.replaceChildren(el("h1", {}, "Schemas"),
      el("div", { class: "cards" }, card("Subjects", r.subjects.length, "subject-count"), card("Global compatibility", r.compatibility, "global-compat")),
      r.subjects.length ? table(["Subject", "Type", "#Latest", "#Id", "#Versions", "Compatibility"], rows, "subjects")
        : el("p", { class: "muted", id: "no-subjects" }, "No schemas registered yet."));
  }

  // Line diff (longest common subsequence): [[" "|"-"|"+", line], ...].
  function diffLines(a, b) {
    const x = a.split("\n"), y = b.split("\n"), n = x.length, m = y.length;
    const L = Array.from({ length: n + 1 }, () => new Array(m + 1).fill(0));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
      L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    const out = [];
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (x[i] === y[j]) { out.push([" ", x[i]]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) out.push(["-", x[i++]]);
      else out.push(["+", y[j++]]);
    }
    while (i < n) out.push(["-", x[i++]]);
    while (j < m) out.push(["+", y[j++]]);
    return out;
  }

  async function viewSchema(root, subject, params) {
    const r = await api("/api/schemas/" + encodeURIComponent(subject));
    const vs = r.versions;
    const nodes = [el("h1", {}, "Subject ", el("span", { id: "subject-name" }, r.subject)),
      el("div", { class: "cards" }, card("Compatibility", r.compatibility, "subject-compat"), card("Versions", vs.length, "version-count"),
        card("Type", vs.length ? vs[vs.length - 1].schema_type : "–"))];
    nodes.push(table(["#Version", "#Id", "State", "Schema"], vs.map(v => el("tr", { class: "schema-version" },
      td(v.version, "num"), td(v.id, "num"), td(v.deleted ? "soft-deleted" : "live"),
      el("td", {}, el("pre", { class: "schema-text" }, v.schema)))), "versions"));
    if (vs.length >= 2) {
      const pick = (name, dflt) => {
        const s = el("select", { name, id: "diff-" + name }, vs.map(v => el("option", { value: v.version }, "v" + v.version)));
        s.value = params.get(name) || dflt;
        s.addEventListener("change", () => {
          const q = new URLSearchParams({ from: from.value, to: to.value });
          location.hash = "#/schema/" + encodeURIComponent(subject) + "?" + q.toString();
        });
        return s;
      };
      const from = pick("from", String(vs[vs.length - 2].version));
      const to = pick("to", String(vs[vs.length - 1].version));
      const a = vs.find(v => String(v.version) === from.value), b = vs.find(v => String(v.version) === to.value);
      const lines = diffLines(a ? a.schema : "", b ? b.schema : "");
      nodes.push(el("h2", {}, "Diff"), el("div", { class: "controls" }, el("label", {}, "From", from), el("label", {}, "To", to)),
        el("pre", { class: "diff", id: "schema-diff" }, lines.map(([k, l]) => el("div", { class: k === "+" ? "add" : k === "-" ? "del" : "" }, k + " " + l))));
    }
    root.replaceChildren(...nodes);
  }

  window.addEventListener("hashchange", route);
  route();
})();
