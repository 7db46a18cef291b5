/* The staff pages' live link to /ws/agent/.
 *
 * - Registers before trusting the page: the server-rendered snapshot carries the last event id it
 *   saw (body[data-last-event-id]); after every (re)connect we ask for everything after the last
 *   id we hold, so nothing between render and connect, or during an outage, is lost.
 * - Reconnects by itself with exponential backoff and full jitter: the n-th attempt waits a
 *   random time in [0, min(max_ms, base_ms * 2^(n-1))). The server announces base_ms and max_ms
 *   in its hello ("reconnect"), so the policy is the server's; after a restart hundreds of
 *   consoles come back spread out, not in one storm. The attempt count restarts only once a
 *   hello arrives (a server that accepts and drops at once still backs off).
 * - While the link is down a banner says so.
 * - Frames are dispatched as DOM events: "cc:event" (every frame) and "cc:<type>".
 *   Pages send frames with CCLive.send({...}).
 */
(function () {
  "use strict";
  const body = document.body;
  let lastId = parseInt(body.dataset.lastEventId || "0", 10) || 0;
  let socket = null;
  let attempt = 0;
  let pingTimer = null;
  let downTimer = null;
  // Until a server has said otherwise (frontend/consumers.py RECONNECT_POLICY).
  let policy = { base_ms: 1000, max_ms: 30000 };
  const queue = [];
  const seen = new Set();

  function url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + location.host + "/ws/agent/";
  }

  function setState(state) {
    CCLive.state = state;
    body.dataset.live = state;
    const banner = document.getElementById("live-banner");
    if (state === "up") {
      clearTimeout(downTimer);
      downTimer = null;  // else a stale id would keep the banner from ever showing again
      if (banner) banner.hidden = true;
    } else if (banner && banner.hidden && !downTimer) {
      // A blink during a reconnect is not worth alarming anyone: show after a moment.
      downTimer = setTimeout(function () { downTimer = null; if (CCLive.state !== "up") banner.hidden = false; }, 1500);
    }
    document.dispatchEvent(new CustomEvent("cc:live", { detail: { state: state } }));
  }

  function dispatch(frame) {
    if (typeof frame.id === "number") {
      if (seen.has(frame.id)) return;
      seen.add(frame.id);
      if (seen.size > 2000) seen.clear();
      if (frame.id > lastId) lastId = frame.id;
    }
    document.dispatchEvent(new CustomEvent("cc:event", { detail: frame }));
    document.dispatchEvent(new CustomEvent("cc:" + frame.type, { detail: frame }));
  }

  function reconnectDelay(attempt, random) {
    const cap = Math.min(policy.max_ms, policy.base_ms * Math.pow(2, Math.max(0, attempt - 1)));
    return (random === undefined ? Math.random() : random) * cap;
  }

  function connect() {
    setState(attempt === 0 ? "connecting" : "down");
    socket = new WebSocket(url());
    socket.onmessage = function (msg) {
      let frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (frame.type === "hello") {
        attempt = 0;
        const r = frame.reconnect;
        if (r && r.base_ms > 0 && r.max_ms >= r.base_ms) policy = { base_ms: r.base_ms, max_ms: r.max_ms };
        setState("up");
        socket.send(JSON.stringify({ type: "resync", since: lastId }));
        while (queue.length) socket.send(JSON.stringify(queue.shift()));
        clearInterval(pingTimer);
        pingTimer = setInterval(function () { send({ type: "ping" }); }, 25000);
      } else if (frame.type === "resync") {
        (frame.events || []).forEach(dispatch);
        if (frame.complete === false) socket.send(JSON.stringify({ type: "resync", since: lastId }));
        document.dispatchEvent(new CustomEvent("cc:resynced", { detail: frame }));
      }
      dispatch(frame);
    };
    socket.onclose = function (ev) {
      clearInterval(pingTimer);
      setState("down");
      if (ev.code === 4401 || ev.code === 4403) {
        // Signed out, disabled or refused: a reload takes the person to the login page.
        setTimeout(function () { location.reload(); }, 2000);
        return;
      }
      attempt += 1;
      setTimeout(connect, reconnectDelay(attempt));
    };
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN && CCLive.state === "up") {
      socket.send(JSON.stringify(frame));
      return true;
    }
    // Typing and pings are only worth sending now; everything else waits for the link.
    if (frame.type !== "ping" && !String(frame.type).endsWith("typing")) queue.push(frame);
    return false;
  }

  // Selects marked data-autosubmit submit their form on change (no inline handlers: CSP).
  document.addEventListener("change", function (ev) {
    const el = ev.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) el.form.submit();
  });

  // Let pages (and tests) drop the link on purpose; it reconnects and resyncs like after an outage.
  function drop() { if (socket) socket.close(); }

  const CCLive = {
    state: "connecting", send: send, drop: drop, lastEventId: function () { return lastId; },
    reconnectDelay: reconnectDelay, reconnectPolicy: function () { return policy; },
  };
  window.CCLive = CCLive;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect); else connect();
})();
