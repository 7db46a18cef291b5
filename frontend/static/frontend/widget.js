/*
 * Solna stad – resident chat widget. Plain JavaScript, no build step.
 *
 * Embed on any page of the city's web site:
 *   <script src="https://kontakt.example.org/static/frontend/widget.js" defer
 *           data-lang="sv" data-title="Chatta med oss"></script>
 * Optional: data-server (default: where this script came from), data-storage="local"
 * (keep the conversation across tabs and browser restarts; default "session": this tab only),
 * data-open="true" (open at once).
 *
 * Every text from the server is shown with textContent: nothing is ever parsed as HTML.
 * The session token is kept in Web Storage and sent in the first frame, never in a URL.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__ccChatWidget) return;
  window.__ccChatWidget = true;

  var STRINGS = {
    sv: {
      launcher: "Chatta med oss", title: "Chatta med Solna stad", close: "Minimera chatten",
      end: "Avsluta chatten", log: "Konversation", label: "Skriv ditt meddelande", send: "Skicka",
      placeholder: "Skriv din fråga här…", you: "Du", bot: "Automatiskt svar", agent: "Handläggare",
      connecting: "Ansluter…", reconnecting: "Anslutningen bröts. Återansluter…", connected: "Ansluten",
      intro: "Hej! Skriv din fråga så hjälper vi dig. Skriv inga känsliga uppgifter som personnummer.",
      helpful: "Fick du svar på din fråga?", yes: "Ja", no: "Nej",
      thanks: "Vad bra! Du kan fortsätta skriva om du har fler frågor.",
      survey: "Svara på enkäten (1 minut)",
      human: "Prata med en människa", handoverOffer: "Vill du prata med en handläggare?",
      waiting: "Du står i kö. En handläggare svarar så snart som möjligt.",
      joined: "{name} har anslutit till chatten.", typing: "{name} skriver…",
      ended: "Chatten är avslutad. Tack för att du hörde av dig!", newChat: "Starta en ny chatt",
      closed: "Chatten är stängd just nu. Lämna din e-postadress så svarar vi via e-post.",
      noAgent: "Ingen handläggare är tillgänglig just nu. Lämna din e-postadress så svarar vi via e-post.",
      emailInstead: "Få svar via e-post i stället", emailLabel: "Din e-postadress", nameLabel: "Ditt namn (frivilligt)",
      emailSend: "Skicka", emailSaved: "Tack! Vi svarar till {email}. Ditt ärende finns kvar hos oss.",
      offlineNote: "Våra handläggare är inte tillgängliga just nu, men du kan ställa din fråga och få svar via e-post.",
      unread: "nytt meddelande", sending: "Skickas…", counter: "{n} tecken kvar",
      errors: {
        rate_limited: "Du skickar för många meddelanden. Vänta en stund och försök igen.",
        too_long: "Meddelandet är för långt.", invalid_email: "Skriv en giltig e-postadress.",
        ask_first: "Skriv din fråga först.", chat_ended: "Chatten är avslutad.",
        generic: "Något gick fel. Försök igen."
      }
    },
    en: {
      launcher: "Chat with us", title: "Chat with the City of Solna", close: "Minimise the chat",
      end: "End the chat", log: "Conversation", label: "Write your message", send: "Send",
      placeholder: "Type your question here…", you: "You", bot: "Automatic answer", agent: "Agent",
      connecting: "Connecting…", reconnecting: "Connection lost. Reconnecting…", connected: "Connected",
      intro: "Hello! Type your question and we will help you. Please do not write sensitive details such as personal identity numbers.",
      helpful: "Did this answer your question?", yes: "Yes", no: "No",
      thanks: "Great! You can keep writing if you have more questions.",
      survey: "Answer the survey (1 minute)",
      human: "Talk to a person", handoverOffer: "Would you like to talk to an agent?",
      waiting: "You are in the queue. An agent will answer as soon as possible.",
      joined: "{name} has joined the chat.", typing: "{name} is typing…",
      ended: "The chat has ended. Thank you for contacting us!", newChat: "Start a new chat",
      closed: "The chat is closed right now. Leave your e-mail address and we will answer by e-mail.",
      noAgent: "No agent is available right now. Leave your e-mail address and we will answer by e-mail.",
      emailInstead: "Get the answer by e-mail instead", emailLabel: "Your e-mail address", nameLabel: "Your name (optional)",
      emailSend: "Send", emailSaved: "Thank you! We will answer to {email}. Your enquiry stays with us.",
      offlineNote: "Our agents are not available right now, but you can ask your question and get the answer by e-mail.",
      unread: "new message", sending: "Sending…", counter: "{n} characters left",
      errors: {
        rate_limited: "You are sending too many messages. Please wait a moment.",
        too_long: "The message is too long.", invalid_email: "Enter a valid e-mail address.",
        ask_first: "Please type your question first.", chat_ended: "The chat has ended.",
        generic: "Something went wrong. Please try again."
      }
    },
    fi: {
      launcher: "Chattaa kanssamme", title: "Solnan kaupungin chat", close: "Pienennä chat",
      end: "Lopeta chat", log: "Keskustelu", label: "Kirjoita viestisi", send: "Lähetä",
      placeholder: "Kirjoita kysymyksesi tähän…", you: "Sinä", bot: "Automaattinen vastaus", agent: "Asiakaspalvelija",
      connecting: "Yhdistetään…", reconnecting: "Yhteys katkesi. Yhdistetään uudelleen…", connected: "Yhdistetty",
      intro: "Hei! Kirjoita kysymyksesi, niin autamme sinua. Älä kirjoita arkaluonteisia tietoja, kuten henkilötunnusta.",
      helpful: "Saitko vastauksen kysymykseesi?", yes: "Kyllä", no: "Ei",
      thanks: "Hienoa! Voit jatkaa kirjoittamista, jos sinulla on lisää kysyttävää.",
      survey: "Vastaa kyselyyn (1 minuutti)",
      human: "Puhu ihmisen kanssa", handoverOffer: "Haluatko keskustella asiakaspalvelijan kanssa?",
      waiting: "Olet jonossa. Asiakaspalvelija vastaa mahdollisimman pian.",
      joined: "{name} liittyi keskusteluun.", typing: "{name} kirjoittaa…",
      ended: "Keskustelu on päättynyt. Kiitos yhteydenotostasi!", newChat: "Aloita uusi keskustelu",
      closed: "Chat on nyt suljettu. Jätä sähköpostiosoitteesi, niin vastaamme sähköpostilla.",
      noAgent: "Asiakaspalvelija ei ole nyt tavoitettavissa. Jätä sähköpostiosoitteesi, niin vastaamme sähköpostilla.",
      emailInstead: "Haluan vastauksen sähköpostilla", emailLabel: "Sähköpostiosoitteesi", nameLabel: "Nimesi (vapaaehtoinen)",
      emailSend: "Lähetä", emailSaved: "Kiitos! Vastaamme osoitteeseen {email}. Asiasi on kirjattu.",
      offlineNote: "Asiakaspalvelijamme eivät ole nyt tavoitettavissa, mutta voit kysyä ja saada vastauksen sähköpostilla.",
      unread: "uusi viesti", sending: "Lähetetään…", counter: "{n} merkkiä jäljellä",
      errors: {
        rate_limited: "Lähetät liian monta viestiä. Odota hetki.",
        too_long: "Viesti on liian pitkä.", invalid_email: "Anna kelvollinen sähköpostiosoite.",
        ask_first: "Kirjoita ensin kysymyksesi.", chat_ended: "Keskustelu on päättynyt.",
        generic: "Jokin meni vikaan. Yritä uudelleen."
      }
    }
  };

  // --- configuration --------------------------------------------------------------------
  var data = script.dataset;
  var scriptUrl = new URL(script.src, document.baseURI);
  var server = (data.server || scriptUrl.origin).replace(/\/+$/, "");
  var wsUrl = server.replace(/^http/, "ws") + "/ws/chat/";
  var cssUrl = scriptUrl.href.replace(/widget\.js(\?.*)?$/, "widget.css");
  var pageLang = (document.documentElement.lang || navigator.language || "sv").slice(0, 2).toLowerCase();
  var lang = STRINGS[data.lang] ? data.lang : (STRINGS[pageLang] ? pageLang : "sv");
  var T = STRINGS[lang];
  var store = data.storage === "local" ? window.localStorage : window.sessionStorage;
  var KEY = "cc-chat:" + server;

  function t(key, vars) {
    var text = T[key] || STRINGS.sv[key] || key;
    Object.keys(vars || {}).forEach(function (k) { text = text.replace("{" + k + "}", vars[k]); });
    return text;
  }
  function saved(name) { try { return store.getItem(KEY + ":" + name); } catch (e) { return null; } }
  function save(name, value) {
    try { if (value === null) store.removeItem(KEY + ":" + name); else store.setItem(KEY + ":" + name, value); } catch (e) { /* private mode */ }
  }

  // --- DOM (in a shadow root, so the host page's CSS and ours never collide) ------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "cc-chat-widget" });
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: cssUrl }));

  var launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "cc-panel" });
  var launcherText = el("span", {}, t("launcher"));
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(el("span", { class: "icon", "aria-hidden": "true" }));
  launcher.appendChild(launcherText);
  launcher.appendChild(badge);

  var panel = el("section", { id: "cc-panel", class: "panel", role: "dialog", "aria-labelledby": "cc-title", lang: lang, hidden: "" });
  var header = el("header", { class: "head" });
  var titles = el("div", { class: "titles" });
  titles.appendChild(el("h2", { id: "cc-title" }, data.title || t("title")));
  var status = el("p", { class: "status", role: "status" }, "");
  titles.appendChild(status);
  var endButton = el("button", { type: "button", class: "ghost end" }, t("end"));
  var closeButton = el("button", { type: "button", class: "ghost close", "aria-label": t("close") }, "✕");
  header.appendChild(titles);
  header.appendChild(endButton);
  header.appendChild(closeButton);

  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": t("log"), tabindex: "0" });
  var typingLine = el("p", { class: "typing", "aria-live": "polite" }, "");
  var alertLine = el("p", { class: "alert", role: "alert" }, "");
  var actions = el("div", { class: "actions" });

  var form = el("form", { class: "compose", novalidate: "" });
  var input = el("textarea", { id: "cc-input", rows: "2", placeholder: t("placeholder"), maxlength: "2000", "aria-describedby": "cc-counter" });
  form.appendChild(el("label", { for: "cc-input", class: "sr-only" }, t("label")));
  form.appendChild(input);
  var sendButton = el("button", { type: "submit", class: "send" }, t("send"));
  form.appendChild(sendButton);
  var counter = el("p", { id: "cc-counter", class: "counter sr-only", "aria-live": "off" }, "");

  [header, log, typingLine, alertLine, actions, form, counter].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  // --- state ----------------------------------------------------------------------------
  var ws = null, retry = 0, retryTimer = null;
  var state = "bot", agentName = "", maxChars = 2000, lastTyping = 0, typingTimer = null;
  var outbox = {}; // client id -> text, re-sent after a reconnect (the server stores it once)
  var messages = {}; // message id -> <li>
  var unread = 0;

  function systemLine(text) {
    var li = el("li", { class: "system" });
    li.appendChild(el("p", {}, text));
    log.appendChild(li);
    scrollDown();
  }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function renderMessage(m) {
    var existing = messages[m.id];
    var li = existing || el("li", { class: "msg " + m.from, "data-id": String(m.id) });
    li.textContent = "";
    var who = m.from === "resident" ? t("you") : m.from === "bot" ? t("bot") : (m.name || t("agent"));
    li.appendChild(el("span", { class: "who" }, who));
    li.appendChild(el("p", { class: "text" }, m.text));
    var time = new Date(m.ts);
    if (!isNaN(time)) {
      li.appendChild(el("time", { datetime: m.ts }, time.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" })));
    }
    if (!existing) {
      messages[m.id] = li;
      // Frames may arrive out of order (a bot answer before the echo of the question): keep id order.
      var after = null;
      Array.prototype.forEach.call(log.querySelectorAll("li.msg[data-id]"), function (other) {
        if (after === null && Number(other.getAttribute("data-id")) > m.id) after = other;
      });
      log.insertBefore(li, after);
    }
    if (m.client_id) {
      var pending = log.querySelector('li.pending[data-client="' + cssEscape(m.client_id) + '"]');
      if (pending) pending.remove();
      delete outbox[m.client_id];
    }
    if (m.from !== "resident" && !existing) {
      typingLine.textContent = "";
      if (panel.hidden) { unread += 1; showBadge(); }
    }
    scrollDown();
  }

  function cssEscape(value) { return String(value).replace(/[^A-Za-z0-9_-]/g, ""); }

  function showBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread ? String(unread) : "";
    badge.setAttribute("aria-label", unread + " " + t("unread"));
  }

  function clearActions() { actions.textContent = ""; }

  function feedbackButtons(messageId) {
    clearActions();
    var group = el("div", { class: "choice", role: "group", "aria-label": t("helpful") });
    group.appendChild(el("p", {}, t("helpful")));
    var yes = el("button", { type: "button" }, t("yes"));
    var no = el("button", { type: "button", class: "secondary" }, t("no"));
    yes.addEventListener("click", function () { send({ type: "feedback", message_id: messageId, helpful: true }); clearActions(); });
    no.addEventListener("click", function () { send({ type: "feedback", message_id: messageId, helpful: false }); clearActions(); });
    group.appendChild(yes);
    group.appendChild(no);
    actions.appendChild(group);
  }

  function handoverButton(withText) {
    clearActions();
    var group = el("div", { class: "choice" });
    if (withText) group.appendChild(el("p", {}, t("handoverOffer")));
    var button = el("button", { type: "button" }, t("human"));
    button.addEventListener("click", function () { send({ type: "handover" }); clearActions(); });
    group.appendChild(button);
    actions.appendChild(group);
  }

  function emailForm(reasonText) {
    clearActions();
    var f = el("form", { class: "email", novalidate: "" });
    if (reasonText) f.appendChild(el("p", {}, reasonText));
    var email = el("input", { id: "cc-email", type: "email", autocomplete: "email", required: "" });
    var name = el("input", { id: "cc-name", type: "text", autocomplete: "name" });
    f.appendChild(el("label", { for: "cc-email" }, t("emailLabel")));
    f.appendChild(email);
    f.appendChild(el("label", { for: "cc-name" }, t("nameLabel")));
    f.appendChild(name);
    f.appendChild(el("button", { type: "submit" }, t("emailSend")));
    f.addEventListener("submit", function (event) {
      event.preventDefault();
      send({ type: "email", email: email.value.trim(), name: name.value.trim() });
    });
    actions.appendChild(f);
    return email;
  }

  function emailInsteadLink() {
    var button = el("button", { type: "button", class: "link" }, t("emailInstead"));
    button.addEventListener("click", function () { var field = emailForm(""); field.focus(); });
    actions.appendChild(button);
  }

  function applyState(frame, announce) {
    var previous = state;
    state = frame.state;
    agentName = frame.agent || agentName;
    if (state === "with_agent") {
      clearActions();
      status.textContent = agentName;
      if (announce && previous !== "with_agent") systemLine(t("joined", { name: agentName }));
    } else if (state === "waiting_for_agent") {
      status.textContent = t("waiting");
      if (announce && previous !== state) systemLine(t("waiting"));
      clearActions();
      emailInsteadLink();
    } else if (state === "offline") {
      status.textContent = "";
      if (frame.reply_by_email) {
        clearActions();
        systemLine(t("emailSaved", { email: frame.email }));
      } else {
        var field = emailForm(frame.reason === "closed" ? t("closed") : t("noAgent"));
        if (announce) field.focus();
      }
    } else if (state === "ended") {
      status.textContent = "";
      clearActions();
      systemLine(t("ended"));
      save("token", null);
      input.disabled = true;
      sendButton.disabled = true;
      var again = el("button", { type: "button" }, t("newChat"));
      again.addEventListener("click", restart);
      actions.appendChild(again);
      if (announce) again.focus();
    }
  }

  function restart() {
    save("token", null);
    log.textContent = "";
    messages = {};
    clearActions();
    input.disabled = false;
    sendButton.disabled = false;
    state = "bot";
    agentName = "";
    if (ws) { ws.onclose = null; ws.close(); ws = null; }
    connect();
    input.focus();
  }

  function showError(frame) {
    var text = (T.errors[frame.code] || T.errors.generic);
    alertLine.textContent = text;
    window.setTimeout(function () { if (alertLine.textContent === text) alertLine.textContent = ""; }, 8000);
    if (frame.id && outbox[frame.id] !== undefined && frame.code !== "rate_limited") {
      // Refused for good (too long, chat ended): give the text back to the resident.
      var pending = log.querySelector('li.pending[data-client="' + cssEscape(frame.id) + '"]');
      if (pending) pending.remove();
      if (!input.value) input.value = outbox[frame.id];
      delete outbox[frame.id];
    }
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "session":
        retry = 0;
        if (frame.token) save("token", frame.token);
        maxChars = frame.max_chars || maxChars;
        input.setAttribute("maxlength", String(maxChars));
        log.textContent = "";
        messages = {};
        systemLine(t("intro"));
        if (frame.availability && !frame.availability.available && frame.state === "bot") systemLine(t("offlineNote"));
        frame.transcript.forEach(renderMessage);
        status.textContent = t("connected");
        state = "bot";
        if (frame.state !== "bot") applyState(frame, false);
        if (frame.state === "with_agent") systemLine(t("joined", { name: frame.agent }));
        if (frame.feedback_message_id) feedbackButtons(frame.feedback_message_id);
        Object.keys(outbox).forEach(function (id) { send({ type: "message", id: id, text: outbox[id] }); });
        break;
      case "message": renderMessage(frame.message); break;
      case "ack": delete outbox[frame.id]; break;
      case "prompt":
        if (frame.kind === "feedback" && frame.message_id) feedbackButtons(frame.message_id);
        else if (frame.kind === "handover") handoverButton(true);
        break;
      case "feedback":
        clearActions();
        if (frame.helpful) systemLine(t("thanks"));
        break;
      case "state": applyState(frame, true); break;
      case "typing":
        typingLine.textContent = t("typing", { name: frame.name || t("agent") });
        window.clearTimeout(typingTimer);
        typingTimer = window.setTimeout(function () { typingLine.textContent = ""; }, 4000);
        break;
      case "survey":
        // After resolution: a short satisfaction survey (text only, the link opens a new tab).
        if (frame.url && /^https?:\/\//.test(frame.url)) {
          var li = el("li", { class: "system" });
          li.appendChild(el("p", {}, frame.text || ""));
          var a = el("a", { href: frame.url, target: "_blank", rel: "noopener" }, t("survey"));
          li.appendChild(a);
          log.appendChild(li);
          scrollDown();
        }
        break;
      case "error": showError(frame); break;
      default: break;
    }
  }

  // --- the socket ------------------------------------------------------------------------
  function send(frame) {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function connect() {
    window.clearTimeout(retryTimer);
    status.textContent = retry ? t("reconnecting") : t("connecting");
    var socket = new WebSocket(wsUrl);
    ws = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", token: saved("token"), language: lang }));
    };
    socket.onmessage = function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* a malformed frame is ignored */ }
    };
    socket.onclose = function (event) {
      if (ws !== socket) return;
      ws = null;
      if (event.code === 4429) { showError({ code: "rate_limited" }); status.textContent = ""; return; }
      // Back off (1, 2, 4 … 30 s) with jitter so a restarting server is not stampeded.
      var delay = Math.min(30000, 1000 * Math.pow(2, retry)) * (0.75 + Math.random() / 2);
      retry += 1;
      status.textContent = t("reconnecting");
      retryTimer = window.setTimeout(connect, delay);
    };
  }

  function ensureConnected() { if (!ws) connect(); }

  // --- interaction -----------------------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    unread = 0;
    showBadge();
    save("open", "1");
    ensureConnected();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    save("open", null);
    launcher.focus();
  }

  function submit() {
    var text = input.value.trim();
    if (!text) return;
    if (text.length > maxChars) { showError({ code: "too_long" }); return; }
    var id = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    outbox[id] = text;
    var li = el("li", { class: "msg resident pending", "data-client": id });
    li.appendChild(el("span", { class: "who" }, t("you")));
    li.appendChild(el("p", { class: "text" }, text));
    li.appendChild(el("span", { class: "sending" }, t("sending")));
    log.appendChild(li);
    scrollDown();
    input.value = "";
    updateCounter();
    send({ type: "message", id: id, text: text });
    ensureConnected();
  }

  function updateCounter() {
    var left = maxChars - input.value.length;
    counter.textContent = t("counter", { n: left });
    counter.classList.toggle("sr-only", left > 100);
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  endButton.addEventListener("click", function () {
    if (state !== "ended" && !send({ type: "end" })) restart();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  input.addEventListener("input", function () {
    updateCounter();
    var now = Date.now();
    if (now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { event.preventDefault(); close(); }
  });

  // An ongoing conversation (this tab, or any tab with data-storage="local") picks up at once.
  if (data.open === "true" || saved("open")) open();
  else if (saved("token")) { ensureConnected(); }
})();
