/* The agent console: queue, ticket view, chats, calls, offers, presence.
 *
 * The server renders every page; this module sends actions to the REST API and, when a live
 * frame says something changed, re-fetches the server-rendered parts (queue body, ticket head
 * and thread) instead of rebuilding HTML here. live.js owns the socket (CCLive).
 */
(function () {
  "use strict";
  const body = document.body;
  const me = body.dataset.username || "";
  const i18nEl = document.getElementById("console-i18n");
  const STR = i18nEl ? JSON.parse(i18nEl.textContent) : {};
  const keys = {};  // single-key shortcuts, filled in by each page part
  // The queue refetches its rows at most this often while events stream in: with a hundred
  // consoles open, a refetch per event would be a hundred page renders per event.
  const QUEUE_REFRESH_MS = 1000;
  const TICKET_REFRESH_MS = 500;

  // --- small helpers --------------------------------------------------------------------------
  function t(key, params) {
    let s = STR[key] || key;
    Object.keys(params || {}).forEach(function (k) { s = s.split("%(" + k + ")s").join(params[k]); });
    return s;
  }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") node.className = attrs[k]; else if (k.startsWith("data-")) node.setAttribute(k, attrs[k]); else node[k] = attrs[k];
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function csrf() { const m = $('meta[name="csrf-token"]'); return m ? m.content : ""; }

  async function api(method, url, data) {
    const opts = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      opts.headers["Content-Type"] = "application/json";
      opts.headers["X-CSRFToken"] = csrf();
      opts.body = JSON.stringify(data || {});
    }
    let res;
    try { res = await fetch(url, opts); } catch (e) { return { ok: false, status: 0, data: null }; }
    let payload = null;
    try { payload = await res.json(); } catch (e) { payload = null; }
    return { ok: res.ok, status: res.status, data: payload };
  }
  function errorText(res) {
    if (res.status === 404 || res.status === 405) return t("unavailable");
    const d = res.data;
    if (!d) return String(res.status || "offline");
    if (typeof d.detail === "string") return d.detail;
    return Object.keys(d).map(function (k) { return k + ": " + [].concat(d[k]).join(" "); }).join("; ");
  }

  let toastTimer = null;
  function toast(text, kind) {
    const box = $("#toast");
    if (!box) return;
    box.textContent = text;
    box.className = "toast" + (kind ? " toast-" + kind : "");
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  // --- relative times and commitments, kept current without the server ------------------------
  const lang = document.documentElement.lang || "sv";
  function duration(ms) {
    const min = Math.round(Math.abs(ms) / 60000);
    if (min < 60) return min + " min";
    const h = Math.floor(min / 60);
    if (h < 48) return h + " h " + (min % 60 ? (min % 60) + " min" : "");
    return Math.floor(h / 24) + (lang === "en" ? " d" : " d");
  }
  function tick() {
    const now = Date.now();
    $all("time[data-age]").forEach(function (node) {
      node.textContent = duration(now - Date.parse(node.getAttribute("datetime")));
    });
    $all(".sla[data-due]").forEach(function (node) {
      const left = Date.parse(node.dataset.due) - now;
      node.classList.remove("sla-ok", "sla-warn", "sla-breach");
      node.classList.add(left <= 0 ? "sla-breach" : left <= 2 * 3600000 ? "sla-warn" : "sla-ok");
      node.textContent = left <= 0 ? "−" + duration(left) : duration(left);
    });
  }
  tick();
  setInterval(tick, 30000);

  // --- re-fetching server-rendered parts ------------------------------------------------------
  // Refetch after live events: the first run `first` ms after an event, then at most one run per
  // `every` ms, never two at once; events in between fold into the next run (it fetches the
  // latest state). A debounce would starve under a steady stream (an event every 100 ms resets
  // it for ever) and a refetch per event would make every console hit the server per event.
  function throttle(fn, first, every) {
    let timer = null, last = 0, running = false, again = false;
    function schedule() {
      if (running) { again = true; return; }
      if (timer) return;
      timer = setTimeout(run, Math.max(first, last + every - Date.now()));
    }
    async function run() {
      timer = null;
      running = true;
      last = Date.now();
      try { await fn(); } finally {
        running = false;
        if (again) { again = false; schedule(); }
      }
    }
    return schedule;
  }

  // --- the queue ------------------------------------------------------------------------------
  const queue = $('[data-page="queue"]');
  if (queue) initQueue();

  function initQueue() {
    let selected = null;
    const known = new Set($all("#queue-body tr[data-ref]").map(function (r) { return r.dataset.ref; }));

    function rows() { return $all("#queue-body tr[data-ref]"); }
    function select(row, focus) {
      rows().forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
      if (!row) { selected = null; return; }
      selected = row.dataset.ref;
      row.classList.add("selected");
      row.setAttribute("aria-selected", "true");
      if (focus) { const a = row.querySelector("a.ref"); if (a) a.focus(); }
    }

    async function refresh() {
      const params = new URLSearchParams(location.search);
      params.set("partial", "rows");
      let res;
      try { res = await fetch(location.pathname + "?" + params.toString(), { credentials: "same-origin" }); } catch (e) { return; }
      if (!res.ok) return;
      const html = await res.text();
      const doc = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
      const fresh = doc.querySelector("#queue-body");
      const current = $("#queue-body");
      if (!fresh || !current) return;
      const hadFocus = current.contains(document.activeElement);
      current.replaceWith(fresh);
      rows().forEach(function (r) {
        if (!known.has(r.dataset.ref)) { r.classList.add("flash"); known.add(r.dataset.ref); }
      });
      (fresh.dataset.counts || "").split(",").forEach(function (pair) {
        const kv = pair.split("=");
        const badge = $('.tab[data-tab="' + kv[0] + '"] .count');
        if (badge) badge.textContent = kv[1];
      });
      const again = selected && $('#queue-body tr[data-ref="' + selected + '"]');
      select(again || null, hadFocus && !!again);
      tick();
    }
    const refreshSoon = throttle(refresh, 120, QUEUE_REFRESH_MS);
    document.addEventListener("cc:ticket.created", refreshSoon);
    document.addEventListener("cc:ticket.updated", refreshSoon);
    document.addEventListener("cc:resynced", function (ev) { if ((ev.detail.events || []).length) refreshSoon(); });

    $("#queue").addEventListener("click", function (ev) {
      const row = ev.target.closest("tr[data-ref]");
      if (row && !ev.target.closest("a")) { location.href = row.querySelector("a.ref").href; }
    });
    $("#queue").addEventListener("focusin", function (ev) {
      const row = ev.target.closest("tr[data-ref]");
      if (row) select(row, false);
    });

    keys.j = function () { move(1); };
    keys.k = function () { move(-1); };
    keys.Enter = function () {
      const row = selected && $('#queue-body tr[data-ref="' + selected + '"]');
      if (row) location.href = row.querySelector("a.ref").href; else return false;
    };
    keys["/"] = function () { const q = $("#f-q"); if (q) q.focus(); };
    function move(delta) {
      const list = rows();
      if (!list.length) return;
      let i = list.findIndex(function (r) { return r.dataset.ref === selected; });
      i = i < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, i + delta));
      select(list[i], true);
      list[i].scrollIntoView({ block: "nearest" });
    }
  }

  // --- the ticket view ------------------------------------------------------------------------
  const ticketRoot = $('[data-page="ticket"]');
  if (ticketRoot) initTicket();

  function initTicket() {
    const ref = ticketRoot.dataset.ref;
    const ticketId = parseInt(ticketRoot.dataset.ticketId, 10);
    const chatSession = parseInt(ticketRoot.dataset.chatSession || "0", 10) || null;
    const base = "/api/v1/tickets/" + encodeURIComponent(ref) + "/";
    const form = $("#composer-form");
    const textarea = $("#reply-body");
    let article = "";
    let mode = "reply";

    // Presence: say where we are on every (re)connect; the server forgets us when we drop.
    function announce() {
      CCLive.send({ type: "watch", ticket_id: ticketId });
      CCLive.send({ type: "presence.view", ticket_id: ticketId });
    }
    document.addEventListener("cc:live", function (ev) { if (ev.detail.state === "up") announce(); });
    if (window.CCLive && CCLive.state === "up") announce();
    window.addEventListener("pagehide", function () { CCLive.send({ type: "presence.leave", ticket_id: ticketId }); });

    async function refreshParts() {
      let res;
      try { res = await fetch(location.pathname, { credentials: "same-origin" }); } catch (e) { return; }
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      $all("[data-live-part]").forEach(function (part) {
        const fresh = doc.querySelector('[data-live-part="' + part.dataset.livePart + '"]');
        if (!fresh) return;
        const keepOpen = part.contains(document.activeElement) ? document.activeElement.getAttribute("data-action") : null;
        part.replaceWith(fresh);
        if (keepOpen) { const again = fresh.querySelector('[data-action="' + keepOpen + '"]'); if (again) again.focus(); }
      });
      const freshRoot = doc.querySelector('[data-page="ticket"]');
      if (freshRoot) applyHolder(freshRoot.dataset.assignee || "", freshRoot.dataset.assigneeName || "");
      tick();
    }
    // This ticket's events: shown within 100 ms, refetched at most twice a second while they stream.
    const refreshSoon = throttle(refreshParts, 100, TICKET_REFRESH_MS);

    function applyHolder(assignee, name) {
      const changed = ticketRoot.dataset.assignee !== assignee;
      ticketRoot.dataset.assignee = assignee;
      if (name) ticketRoot.dataset.assigneeName = name; else if (changed) ticketRoot.dataset.assigneeName = assignee;
      const other = assignee && assignee !== me;
      const held = $('[data-field="held"]');
      if (held) {
        held.hidden = !other;
        if (other) held.textContent = t("held", { name: ticketRoot.dataset.assigneeName || assignee });
      }
      textarea.disabled = !!other;
      $("#send").disabled = !!other;
    }

    function mine(ev) { return ev.detail && (ev.detail.ticket_id === ticketId || ev.detail.ticket === ref); }
    document.addEventListener("cc:ticket.updated", function (ev) {
      if (!mine(ev)) return;
      // The claim shows at once from the frame; the full head follows from the server.
      if ("assignee" in ev.detail) applyHolder(ev.detail.assignee || "");
      if (ev.detail.change === "claimed" && ev.detail.assignee && ev.detail.assignee !== me) toast(t("claimedBy", { name: ev.detail.assignee }), "warn");
      refreshSoon();
    });
    document.addEventListener("cc:message.created", function (ev) { if (mine(ev)) refreshSoon(); });
    document.addEventListener("cc:resynced", function (ev) {
      if ((ev.detail.events || []).some(function (e) { return e.ticket_id === ticketId; })) refreshSoon();
    });

    // Who else is here.
    document.addEventListener("cc:ticket.presence", function (ev) {
      if (ev.detail.ticket_id !== ticketId) return;
      const others = (ev.detail.viewers || []).filter(function (u) { return u !== me; });
      const typing = (ev.detail.typing || []).filter(function (u) { return u !== me; });
      const line = $("#presence");
      const parts = [];
      if (others.length) parts.push(t("viewing", { names: others.join(", ") }));
      if (typing.length) parts.push(t("typing", { names: typing.join(", ") }));
      line.textContent = parts.join(" · ");
      line.hidden = !parts.length;
    });
    let residentTypingTimer = null;
    document.addEventListener("cc:chat.typing", function (ev) {
      if (ev.detail.ticket_id !== ticketId || ev.detail.who !== "resident") return;
      const node = $("#typing");
      node.textContent = t("residentTyping");
      node.hidden = false;
      clearTimeout(residentTypingTimer);
      residentTypingTimer = setTimeout(function () { node.hidden = true; }, 4000);
    });

    // Composer.
    function setMode(next) {
      mode = next;
      form.dataset.mode = next;
      $all(".composer-tabs [role=tab]").forEach(function (tab) { tab.setAttribute("aria-selected", String(tab.dataset.mode === next)); });
      $all("[data-reply-only]").forEach(function (node) { node.hidden = next !== "reply"; });
      $('[data-field="label"]').textContent = next === "reply" ? t("replyLabel") : t("noteLabel");
      textarea.placeholder = next === "reply" ? t("replyLabel") + "…" : t("noteLabel") + "…";
      textarea.disabled = next === "reply" && !!ticketRoot.dataset.assignee && ticketRoot.dataset.assignee !== me;
      $("#send").disabled = textarea.disabled;
    }
    $all(".composer-tabs [role=tab]").forEach(function (tab) {
      tab.addEventListener("click", function () { setMode(tab.dataset.mode); textarea.focus(); });
    });
    let typingAt = 0;
    textarea.addEventListener("input", function () {
      const now = Date.now();
      if (mode !== "reply" || now - typingAt < 2000) return;
      if (!CCLive.send({ type: "presence.typing", ticket_id: ticketId })) return;
      typingAt = now;
      if (chatSession) CCLive.send({ type: "chat.typing", session_id: chatSession });
    });
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const text = textarea.value.trim();
      if (!text) { textarea.focus(); return; }
      const err = $('[data-field="error"]', form);
      err.hidden = true;
      $("#send").disabled = true;
      const payload = mode === "reply"
        ? { body: text, status_after: $("#status-after").value || null, article: article }
        : { body: text };
      const res = await api("POST", base + (mode === "reply" ? "reply/" : "note/"), payload);
      $("#send").disabled = false;
      if (!res.ok) { err.textContent = t("failed", { detail: errorText(res) }); err.hidden = false; return; }
      textarea.value = "";
      setArticle("", "");
      toast(mode === "reply" ? t("sent") : t("noteSaved"));
      refreshSoon();
    });
    textarea.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); form.requestSubmit(); }
    });

    function setArticle(slug, title) {
      article = slug;
      const chip = $('[data-field="article"]');
      chip.hidden = !slug;
      $('[data-field="article-title"]').textContent = title;
    }
    function insertText(text) {
      const start = textarea.selectionStart || textarea.value.length;
      const before = textarea.value.slice(0, start);
      const after = textarea.value.slice(textarea.selectionEnd || start);
      const glue = before && !before.endsWith("\n") ? "\n\n" : "";
      textarea.value = before + glue + text + after;
      textarea.focus();
      textarea.selectionStart = textarea.selectionEnd = (before + glue + text).length;
      textarea.dispatchEvent(new Event("input"));
    }
    async function insertArticle(slug, title) {
      const res = await api("GET", "/api/v1/knowledge/articles/" + encodeURIComponent(slug) + "/");
      if (!res.ok) { toast(t("failed", { detail: errorText(res) }), "error"); return; }
      setMode("reply");
      insertText(res.data.body || "");
      setArticle(slug, res.data.title || title);
    }
    document.addEventListener("click", function (ev) {
      const btn = ev.target.closest("[data-insert-article]");
      if (btn) { insertArticle(btn.dataset.insertArticle, btn.dataset.title || ""); return; }
      if (ev.target.closest('[data-action="clear-article"]')) setArticle("", "");
    });
    $("#kb-search").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      const q = $("#kb-q").value.trim();
      const list = $('[data-field="results"]');
      list.textContent = "";
      if (!q) return;
      const res = await api("GET", "/api/v1/knowledge/search/?q=" + encodeURIComponent(q) + "&lang=" + encodeURIComponent(ticketRoot.dataset.language || "sv"));
      if (!res.ok) { list.appendChild(el("li", { class: "muted small" }, errorText(res))); return; }
      if (!res.data.length) { list.appendChild(el("li", { class: "muted small" }, t("noResults"))); return; }
      res.data.forEach(function (hit) {
        const li = el("li");
        li.appendChild(el("span", { class: "kb-title" }, hit.title));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("button", { type: "button", class: "btn btn-small", "data-insert-article": hit.slug, "data-title": hit.title }, t("insert")));
        list.appendChild(li);
      });
    });

    // Canned replies (per language and department, already filled in for this ticket).
    (async function () {
      const select = $("#canned");
      const res = await api("GET", base + "canned-replies/");
      if (!res.ok || !Array.isArray(res.data)) return;
      const replies = {};
      res.data.forEach(function (c) {
        replies[c.id] = c;
        select.appendChild(el("option", { value: String(c.id) }, c.title + (c.language ? " (" + c.language + ")" : "")));
      });
      select.disabled = !res.data.length;
      select.addEventListener("change", function () {
        const c = replies[select.value];
        if (c) { setMode("reply"); insertText(c.body); }
        select.value = "";
      });
    })();

    // Actions.
    async function act(path, data, after) {
      const res = await api("POST", base + path, data);
      const err = $('[data-field="action-error"]');
      if (!res.ok) {
        const text = t("failed", { detail: errorText(res) });
        if (err) { err.textContent = text; err.hidden = false; }
        toast(text, "error");
        return null;
      }
      if (err) err.hidden = true;
      if (after) after(res.data); else { toast(t("saved")); refreshSoon(); }
      return res.data;
    }
    function claim() {
      return act("claim/", {}, function (data) { applyHolder(data.assignee || ""); toast(t("saved")); refreshSoon(); });
    }
    document.addEventListener("click", function (ev) {
      const btn = ev.target.closest("button[data-action]");
      if (!btn || !ticketRoot.contains(btn)) return;
      const action = btn.dataset.action;
      if (action === "claim") claim();
      else if (action === "reopen") act("reopen/", {});
      else if (action === "status") act("status/", { status: btn.dataset.status });
    });
    document.addEventListener("change", function (ev) {
      const select = ev.target.closest('select[data-action="assign"]');
      if (!select || !select.value) return;
      act("assign/", { assignee: select.value === "__none__" ? null : select.value }, function (data) {
        applyHolder(data.assignee || ""); toast(t("saved")); refreshSoon();
      });
    });
    document.addEventListener("submit", function (ev) {
      const f = ev.target.closest("form[data-action]");
      if (!f) return;
      ev.preventDefault();
      const action = f.dataset.action;
      if (action === "resolve") {
        act("resolve/", { first_contact: $("#first-contact").checked, note: f.note.value });
      } else if (action === "escalate") {
        act("escalate/", { department: f.department.value, note: f.note.value });
      } else if (action === "tags") {
        const add = f.add.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        act("tags/", { add: add, remove: [] }, function () { f.add.value = ""; toast(t("saved")); refreshSoon(); });
      } else if (action === "merge") {
        const into = f.into.value.trim().toUpperCase();
        act("merge/", { into: into }, function (data) {
          location.href = "/console/t/" + encodeURIComponent((data && data.reference) || into) + "/";
        });
      }
    });
    document.addEventListener("click", function (ev) {
      const chip = ev.target.closest("[data-remove-tag]");
      if (chip) act("tags/", { add: [], remove: [chip.dataset.removeTag] }, function () { chip.remove(); refreshSoon(); });
    });

    keys.c = function () { if (ticketRoot.dataset.assignee !== me) claim(); };
    keys.r = function () { setMode("reply"); textarea.focus(); };
    keys.n = function () { setMode("note"); textarea.focus(); };
    setMode("reply");
    applyHolder(ticketRoot.dataset.assignee || "", ticketRoot.dataset.assigneeName || "");
  }

  // --- chats rail -----------------------------------------------------------------------------
  const chatsBox = $("#chats");
  if (chatsBox) initChats();

  function initChats() {
    const chats = new Map();
    function render() {
      const waitingList = $('[data-field="waiting"]', chatsBox);
      const mineList = $('[data-field="mine"]', chatsBox);
      waitingList.textContent = "";
      mineList.textContent = "";
      let waiting = 0, mineCount = 0;
      chats.forEach(function (c) {
        if (c.state === "waiting_for_agent") {
          waiting += 1;
          const li = el("li", { class: "chat-item", "data-session": String(c.session_id) });
          const info = el("div", { class: "chat-info" });
          info.appendChild(el("strong", {}, c.subject || c.ticket || "–"));
          info.appendChild(el("span", { class: "muted small" }, " " + (c.language || "").toUpperCase() + " · " + (c.ticket || "")));
          li.appendChild(info);
          const btn = el("button", { type: "button", class: "btn btn-small btn-primary", "data-accept-chat": String(c.session_id) }, t("accept"));
          btn.setAttribute("aria-label", t("accept") + ": " + (c.subject || c.ticket || ""));
          li.appendChild(btn);
          waitingList.appendChild(li);
        } else if (c.state === "with_agent" && c.agent === me) {
          mineCount += 1;
          const li = el("li", { class: "chat-item" });
          li.appendChild(el("a", { href: "/console/t/" + encodeURIComponent(c.ticket) + "/" }, (c.subject || c.ticket)));
          li.appendChild(el("span", { class: "muted small" }, " " + c.ticket));
          mineList.appendChild(li);
        }
      });
      $('[data-field="chat-count"]', chatsBox).textContent = String(waiting);
      $('[data-field="no-chats"]', chatsBox).hidden = waiting > 0;
      $('[data-field="mine-title"]', chatsBox).hidden = mineCount === 0;
    }
    document.addEventListener("cc:live", function (ev) { if (ev.detail.state === "up") CCLive.send({ type: "chat.list" }); });
    document.addEventListener("cc:chat.list", function (ev) {
      chats.clear();
      (ev.detail.chats || []).forEach(function (c) { chats.set(c.session_id, c); });
      render();
    });
    ["waiting", "accepted", "ended", "offline"].forEach(function (kind) {
      document.addEventListener("cc:chat." + kind, function (ev) {
        const c = ev.detail;
        if (kind === "ended" || kind === "offline") chats.delete(c.session_id); else chats.set(c.session_id, c);
        render();
      });
    });
    chatsBox.addEventListener("click", async function (ev) {
      const btn = ev.target.closest("[data-accept-chat]");
      if (!btn) return;
      btn.disabled = true;
      const id = parseInt(btn.dataset.acceptChat, 10);
      const res = await api("POST", "/api/v1/chats/" + id + "/accept/", {});
      if (!res.ok) { btn.disabled = false; toast(t("failed", { detail: errorText(res) }), "error"); return; }
      chats.set(id, { session_id: id, state: "with_agent", agent: me, ticket: res.data.ticket, subject: res.data.subject, language: res.data.language });
      if (res.data.ticket_id) CCLive.send({ type: "watch", ticket_id: res.data.ticket_id });
      render();
      toast(t("accepted"));
    });
  }

  // --- agents online and my availability ------------------------------------------------------
  const agentsBox = $("#agents");
  if (agentsBox) {
    const renderAgents = function (agents) {
      const list = $('[data-field="agents"]', agentsBox);
      list.textContent = "";
      agents.forEach(function (a) {
        const li = el("li", { class: "agent" + (a.available ? " available" : " away") });
        li.appendChild(el("span", { class: "dot", "aria-hidden": "true" }));
        li.appendChild(el("span", { class: "name" }, (a.name || a.username) + (a.username === me ? " (" + t("you") + ")" : "")));
        if (a.capacity) li.appendChild(el("span", { class: "muted small load" }, a.load + "/" + a.capacity));
        if (!a.available) li.appendChild(el("span", { class: "muted small" }, t("busy")));
        list.appendChild(li);
        if (a.username === me) $("#availability").checked = !!a.available;
      });
      $('[data-field="no-agents"]', agentsBox).hidden = agents.length > 0;
    };
    api("GET", "/api/v1/agents/online/").then(function (res) { if (res.ok && Array.isArray(res.data)) renderAgents(res.data); });
    // The socket's hello carries the list as of the connect (this agent included): the page's
    // own fetch above may run before the socket registered, and agents.online goes to the others.
    document.addEventListener("cc:hello", function (ev) {
      if (Array.isArray(ev.detail.agents_online)) renderAgents(ev.detail.agents_online);
    });
    document.addEventListener("cc:agents.online", function (ev) { renderAgents(ev.detail.agents || []); });
    $("#availability").addEventListener("change", async function (ev) {
      const available = ev.target.checked;
      const res = await api("POST", "/api/v1/me/availability/", { available: available });
      if (!res.ok) CCLive.send({ type: "availability", available: available });
    });
  }

  // --- a ringing call pops the caller -----------------------------------------------------------
  const callPop = $("#call-pop");
  document.addEventListener("cc:call.ringing", function (ev) {
    if (!callPop) return;
    const f = ev.detail;
    $('[data-field="caller"]', callPop).textContent = f.caller_display || f.caller || "";
    $('[data-field="contact"]', callPop).textContent = f.contact ? f.contact.name : t("noContact");
    const list = $('[data-field="tickets"]', callPop);
    list.textContent = "";
    (f.open_tickets || []).forEach(function (tk) {
      const li = el("li");
      li.appendChild(el("a", { href: "/console/t/" + encodeURIComponent(tk.reference) + "/" }, tk.reference));
      li.appendChild(document.createTextNode(" " + (tk.subject || "")));
      list.appendChild(li);
    });
    $('[data-field="no-tickets"]', callPop).hidden = (f.open_tickets || []).length > 0;
    callPop.dataset.callId = f.call_id || "";
    callPop.hidden = false;
  });
  document.addEventListener("cc:call.answered", function (ev) {
    if (callPop && ev.detail.call_id === callPop.dataset.callId && ev.detail.agent && ev.detail.agent !== me) callPop.hidden = true;
  });
  document.addEventListener("click", function (ev) {
    const btn = ev.target.closest("[data-dismiss]");
    if (btn) { const box = document.getElementById(btn.dataset.dismiss); if (box) box.hidden = true; }
  });

  // --- offers (fair distribution) -----------------------------------------------------------------
  const offerPop = $("#offer-pop");
  let offer = null;
  let offerTimer = null;
  function closeOffer(message) {
    clearInterval(offerTimer);
    offer = null;
    if (offerPop) offerPop.hidden = true;
    if (message) toast(message);
  }
  document.addEventListener("cc:offer.created", function (ev) {
    if (!offerPop) return;
    offer = ev.detail;
    $('[data-field="kind"]', offerPop).textContent = t("kind_" + offer.kind);
    const link = $('[data-field="ticket"]', offerPop);
    link.textContent = offer.ticket || "";
    link.href = offer.ticket ? "/console/t/" + encodeURIComponent(offer.ticket) + "/" : "#";
    $('[data-field="subject"]', offerPop).textContent = offer.subject || "";
    offerPop.hidden = false;
    const countdown = $('[data-field="countdown"]', offerPop);
    const expires = Date.parse(offer.expires_at);
    clearInterval(offerTimer);
    const update = function () {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      countdown.textContent = t("seconds", { s: left });
      if (left <= 0) closeOffer(t("offerExpired"));
    };
    update();
    offerTimer = setInterval(update, 1000);
    $('[data-offer="accept"]', offerPop).focus();
  });
  document.addEventListener("cc:offer.withdrawn", function (ev) { if (offer && ev.detail.offer_id === offer.offer_id) closeOffer(); });
  if (offerPop) offerPop.addEventListener("click", async function (ev) {
    const btn = ev.target.closest("[data-offer]");
    if (!btn || !offer) return;
    const current = offer;
    const verb = btn.dataset.offer;
    const res = await api("POST", "/api/v1/offers/" + current.offer_id + "/" + verb + "/", {});
    if (!res.ok && res.status === 404) CCLive.send({ type: "offer." + verb, offer_id: current.offer_id });
    else if (!res.ok) { toast(t("failed", { detail: errorText(res) }), "error"); closeOffer(); return; }
    closeOffer();
    if (verb === "accept" && current.ticket) location.href = "/console/t/" + encodeURIComponent(current.ticket) + "/";
  });

  // --- keyboard -----------------------------------------------------------------------------------
  // Single keys only outside form fields and without modifiers, so screen-reader and browser
  // shortcuts keep working; "?" lists them.
  let pendingG = false;
  keys["?"] = function () { const d = $("#help"); if (d && !d.open) d.showModal(); };
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
    const target = ev.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable], dialog[open]")) {
      if (ev.key === "Escape" && target.blur) target.blur();
      return;
    }
    if (pendingG) {
      pendingG = false;
      if (ev.key === "q") { location.href = "/console/"; ev.preventDefault(); }
      return;
    }
    if (ev.key === "g") { pendingG = true; setTimeout(function () { pendingG = false; }, 1000); return; }
    if (ev.key === "Enter" && target.closest && target.closest("a, button")) return;
    const fn = keys[ev.key];
    if (fn && fn() !== false) ev.preventDefault();
  });
})();
