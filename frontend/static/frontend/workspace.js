/* Department workspace and supervisor view: keep server-rendered regions current.
 *
 * Live frames from live.js (DOM events "cc:*") only tell us *that* something changed; the
 * region is then re-fetched from the server, which stays the truth and applies the scope.
 * Refreshes are coalesced: a burst of frames costs one request, never one per frame.
 */
(function () {
  "use strict";

  function refresher(region, minGapMs) {
    let timer = null;
    let inFlight = false;
    let dirty = false;
    let last = 0;

    function run() {
      timer = null;
      if (inFlight) { dirty = true; return; }
      inFlight = true;
      last = Date.now();
      fetch(region.dataset.refreshUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (r.status === 401 || r.status === 403 || r.redirected) { location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          // Keep keyboard focus where it was if the same element exists after the swap.
          const active = document.activeElement;
          const focusKey = active && region.contains(active) ? active.getAttribute("href") : null;
          region.innerHTML = html;
          if (focusKey) {
            const again = region.querySelector('[href="' + CSS.escape(focusKey) + '"]');
            if (again) again.focus();
          }
          region.dispatchEvent(new CustomEvent("ws:refreshed", { bubbles: true }));
        })
        .catch(function () { /* the next frame or poll tries again */ })
        .finally(function () {
          inFlight = false;
          if (dirty) { dirty = false; schedule(); }
        });
    }

    function schedule() {
      if (timer) return;
      const wait = Math.max(150, minGapMs - (Date.now() - last));
      timer = setTimeout(run, wait);
    }
    return schedule;
  }

  const TICKET_EVENTS = ["ticket.created", "ticket.updated", "message.created"];

  // --- department list ---------------------------------------------------------------------
  const list = document.getElementById("ws-list");
  if (list) {
    const refresh = refresher(list, 500);
    document.addEventListener("cc:event", function (e) {
      const f = e.detail || {};
      if (TICKET_EVENTS.indexOf(f.type) === -1) return;
      // Admins receive every department's frames: only ours (or ones that left us) matter.
      if (f.department && f.department !== list.dataset.department && f.change !== "escalated") return;
      refresh();
    });
    document.addEventListener("cc:resynced", refresh);
  }

  // --- one department ticket ------------------------------------------------------------------
  const live = document.getElementById("ws-ticket-live");
  const root = document.querySelector("[data-ticket-id]");
  if (live && root) {
    const ticketId = parseInt(root.dataset.ticketId, 10);
    const refresh = refresher(live, 400);
    document.addEventListener("cc:live", function (e) {
      if (e.detail && e.detail.state === "up" && window.CCLive) window.CCLive.send({ type: "watch", ticket_id: ticketId });
    });
    if (window.CCLive && window.CCLive.state === "up") window.CCLive.send({ type: "watch", ticket_id: ticketId });
    document.addEventListener("cc:event", function (e) {
      const f = e.detail || {};
      if (TICKET_EVENTS.indexOf(f.type) !== -1 && f.ticket_id === ticketId) refresh();
    });
    document.addEventListener("cc:resynced", refresh);
  }

  // --- supervisor counts ------------------------------------------------------------------------
  const counts = document.getElementById("sv-counts");
  if (counts) {
    const refresh = refresher(counts, 2000);
    document.addEventListener("cc:event", function (e) {
      const t = (e.detail || {}).type || "";
      if (t === "pong" || t === "hello" || t === "resync" || t === "error") return;
      refresh();
    });
    // Presence and the clock (tickets nearing their due time) change without any frame.
    setInterval(function () { if (!document.hidden) refresh(); }, 15000);
  }

  // --- small progressive enhancements -------------------------------------------------------------
  document.addEventListener("change", function (e) {
    const el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });
})();
