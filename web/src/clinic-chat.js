/* The clinic's chat widget. `make widget` wraps this file, the socket.io client (from npm) and the
 * clinic's settings (config/clinic.yml) into one file, dist/clinic-chat.js, embedded with one tag:
 *
 *   <script src="https://chat.example-clinic.org/clinic-chat.js" data-server="https://bot.example-clinic.org" defer></script>
 *
 * Attributes (all optional): data-server (the Rasa server; default: this page's host, port 5005),
 * data-title, data-disclaimer, data-launcher (the button's label), data-open="true" (start open).
 *
 * Safety: every text from the user or the bot is put on the page as text (textContent), never as
 * HTML; only http(s) and mailto addresses become links. The widget lives in a shadow root so the
 * clinic's styles and ours do not mix. The conversation is kept in sessionStorage (this tab only,
 * gone when the tab is closed), so a reload shows it again and the bot keeps its session.
 */
/* global io, CLINIC_DEFAULTS */
(function () {
  "use strict";

  var script = document.currentScript;
  var attr = function (name) { return script && script.getAttribute("data-" + name); };
  var defaults = (typeof CLINIC_DEFAULTS === "object" && CLINIC_DEFAULTS) || {};
  var settings = {
    server: attr("server") || (location.protocol === "https:" ? "https://" : "http://") + (location.hostname || "localhost") + ":5005",
    title: attr("title") || defaults.title || "Ask our clinic",
    disclaimer: attr("disclaimer") || defaults.disclaimer || "",
    launcher: attr("launcher") || defaults.launcher || "Questions? Chat with us",
    open: attr("open") === "true",
  };
  var STORE_KEY = "clinic-chat:" + settings.server;
  var TYPING_TIMEOUT_MS = 30000;
  var MAX_STORED_MESSAGES = 200;

  // -- state kept across reloads (this tab only) ------------------------------------------------
  var state = load() || { sessionId: null, messages: [], open: settings.open };
  function load() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)); } catch (e) { return null; }
  }
  function save() {
    state.messages = state.messages.slice(-MAX_STORED_MESSAGES);
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* private mode: keep in memory */ }
  }

  // -- DOM ----------------------------------------------------------------------------------------
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key === "class") node.className = props[key];
      else if (key.indexOf("on") === 0) node.addEventListener(key.slice(2), props[key]);
      else node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  var host = el("div", { id: "clinic-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("style", { text: CSS }));

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "cc-panel",
    text: settings.launcher, onclick: function () { setOpen(!state.open); } });
  var closeButton = el("button", { type: "button", class: "close", "aria-label": "Close the chat", text: "\u00d7",
    onclick: function () { setOpen(false); launcher.focus(); } });
  var status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  var typing = el("div", { class: "typing", "aria-hidden": "true", hidden: "" },
    [el("span", { class: "sr-only", text: "The assistant is typing" }), el("i"), el("i"), el("i")]);
  var typingNotice = el("p", { class: "sr-only", role: "status", "aria-live": "polite" });
  var input = el("textarea", { id: "cc-input", rows: "1", maxlength: "1000", autocomplete: "off",
    placeholder: "Type your question\u2026", "aria-label": "Your message" });
  var send = el("button", { type: "submit", class: "send", text: "Send" });
  var form = el("form", { class: "composer", onsubmit: function (event) { event.preventDefault(); sendText(); } },
    [input, send]);
  var panel = el("section", { id: "cc-panel", class: "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "cc-title", "aria-describedby": "cc-disclaimer", hidden: "" }, [
    el("header", {}, [
      el("div", { class: "heading" }, [
        el("h2", { id: "cc-title", text: settings.title }),
        el("p", { id: "cc-disclaimer", class: "disclaimer", text: settings.disclaimer }),
      ]),
      closeButton,
    ]),
    status, log, typing, typingNotice, form,
  ]);
  root.appendChild(panel);
  root.appendChild(launcher);

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); sendText(); }
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { setOpen(false); launcher.focus(); }
  });

  // -- rendering ------------------------------------------------------------------------------------
  var LINK = /\b(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]}]|mailto:[^\s<>"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)/g;

  function linkify(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    String(text).replace(LINK, function (match, _group, offset) {
      fragment.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = /^(https?:|mailto:)/i.test(match) ? match : "mailto:" + match;
      fragment.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow", text: match }));
      last = offset + match.length;
      return match;
    });
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function render() {
    log.textContent = "";
    state.messages.forEach(function (message, index) {
      var bubble = el("div", { class: "msg " + message.from });
      bubble.appendChild(el("span", { class: "sr-only", text: message.from === "user" ? "You: " : "Assistant: " }));
      bubble.appendChild(el("span", { class: "text" }, [linkify(message.text || "")]));
      log.appendChild(bubble);
      var isLast = index === state.messages.length - 1;
      if (message.buttons && message.buttons.length && isLast) {
        log.appendChild(el("div", { class: "replies", role: "group", "aria-label": "Suggested replies" },
          message.buttons.map(function (button) {
            return el("button", { type: "button", class: "reply", text: button.title,
              onclick: function () { sendPayload(button.title, button.payload); } });
          })));
      }
    });
    log.scrollTop = log.scrollHeight;
  }

  function append(message) {
    state.messages.push(message);
    save();
    render();
  }

  function setTyping(on) {
    if (typingTimer) clearTimeout(typingTimer);
    typing.hidden = !on;
    typingNotice.textContent = on ? "The assistant is typing\u2026" : "";
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
    log.scrollTop = log.scrollHeight;
  }
  var typingTimer = null;

  function setOpen(open) {
    state.open = open;
    save();
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open;
    if (open) {
      render();
      input.focus();
    }
  }

  // -- talking to Rasa (socketio channel, session_persistence: true) --------------------------------
  var socket = io(settings.server, { path: "/socket.io", transports: ["websocket", "polling"],
    reconnection: true, reconnectionDelay: 500, reconnectionDelayMax: 3000 });
  var confirmed = false;
  var outbox = [];  // sent while offline: delivered on reconnection

  socket.on("connect", function () {
    confirmed = false;
    socket.emit("session_request", { session_id: state.sessionId });
  });
  socket.on("session_confirm", function (sessionId) {
    var id = typeof sessionId === "object" && sessionId ? sessionId.session_id : sessionId;
    if (!id) return;
    state.sessionId = id;
    confirmed = true;
    save();
    setStatus("");
    while (outbox.length) emit(outbox.shift());
  });
  socket.on("disconnect", function () { confirmed = false; setStatus("Connection lost. Reconnecting\u2026"); });
  socket.io.on("reconnect_attempt", function () { setStatus("Reconnecting\u2026"); });
  socket.on("connect_error", function () { setStatus("Can't reach the clinic's assistant. Retrying\u2026"); });

  socket.on("bot_uttered", function (message) {
    if (!message || typeof message !== "object") return;
    var text = typeof message.text === "string" ? message.text : "";
    var buttons = (message.quick_replies || message.buttons || []).filter(function (b) {
      return b && typeof b.title === "string";
    }).map(function (b) { return { title: b.title, payload: String(b.payload == null ? b.title : b.payload) }; });
    var attachment = message.attachment;
    if (!text && attachment && attachment.payload && typeof attachment.payload.src === "string") text = attachment.payload.src;
    if (!text && !buttons.length) return;
    setTyping(false);
    append({ from: "bot", text: text, buttons: buttons });
  });

  function setStatus(text) { status.textContent = text; status.hidden = !text; }

  function emit(payload) {
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
  }

  function deliver(payload) {
    if (confirmed && socket.connected) emit(payload);
    else outbox.push(payload);
    setTyping(true);
  }

  function sendText() {
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    append({ from: "user", text: text });
    deliver(text);
  }

  function sendPayload(title, payload) {
    append({ from: "user", text: title });
    deliver(payload);
    input.focus();
  }

  setStatus("");
  function mount() {
    document.body.appendChild(host);
    setOpen(!!state.open);
    if (!state.open) render();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
