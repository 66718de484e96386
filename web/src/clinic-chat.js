/* The clinic's chat widget. `make widget` wraps this file, the socket.io client (from npm) and the
 * clinic's settings (config/clinic.yml) into one file, dist/clinic-chat.js, embedded with one tag:
 *
 *   <script src="https://chat.example-clinic.org/clinic-chat.js" data-server="https://bot.example-clinic.org" defer></script>
 *
 * Attributes (all optional): data-server (the Rasa server; default: this page's host, port 5005),
 * data-title, data-disclaimer, data-launcher (the button's label), data-open="true" (start open).
 *
 * Replies are in the common subset of Markdown that reads as plain text (paragraphs split by a
 * blank line, "- " lists, links); the widget renders that subset itself, and shows the paragraphs
 * Rasa's channel sends one by one as one reply again. In a medical answer, the
 * quotes after "What our documents say:" fold behind a disclosure (closed on narrow screens, open
 * on wide ones); the opening sentence, the sources and the disclaimer are never folded.
 *
 * Safety: every text from the user or the bot is put on the page as text (text nodes), never as
 * HTML; only http(s) addresses become links. The widget lives in a shadow root so the clinic's
 * styles and ours do not mix. The conversation is kept in sessionStorage (this tab only,
 * gone when the tab is closed), so a reload shows it again and the bot keeps its session. When the
 * server confirms that it deleted the conversation (a reply marked "forgotten"), the stored and shown
 * transcript is cleared too.
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

  // -- rendering: the reply format (the common subset of Markdown) as DOM nodes and text nodes only ---
  var TEXTS = defaults.texts || {};
  var EVIDENCE_HEADING = TEXTS.evidenceHeading || "What our documents say:";
  var FOLD_HEADINGS = [EVIDENCE_HEADING].concat(TEXTS.moreEvidenceHeadings || []);
  var SOURCES_PREFIXES = TEXTS.sourcesPrefixes || ["Source: ", "Sources: "];
  var NARROW_SCREEN = "(max-width: 599px)";
  var LIST_ITEM = /^[ \t]*[-*][ \t]+/;
  // [label](http(s) address) or a bare http(s) address (trailing punctuation is not part of it).
  var LINK = /\[([^\[\]\n]+)\]\((https?:\/\/[^\s()<>"']+)\)|\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/gi;

  function safeHref(address) {
    try {
      var url = new URL(address);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) { return null; }
  }

  // A line of text: links become <a> (http and https only), everything else a text node.
  function inline(text) {
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var href = safeHref(match[2] || match[0]);
      if (!href) continue;
      fragment.appendChild(document.createTextNode(text.slice(last, match.index)));
      fragment.appendChild(el("a", { href: href, target: "_blank", rel: "noopener noreferrer nofollow",
        text: match[1] || match[0] }));
      last = match.index + match[0].length;
    }
    fragment.appendChild(document.createTextNode(text.slice(last)));
    return fragment;
  }

  function paragraphsOf(text) {
    return String(text).replace(/\r\n?/g, "\n").split(/\n[ \t]*\n/).map(function (p) {
      return p.replace(/^\n+|\s+$/g, "");
    }).filter(function (p) { return p.trim() !== ""; });
  }

  function isList(paragraph) {
    return paragraph.split("\n").every(function (line) { return LIST_ITEM.test(line); });
  }

  // One paragraph: its lines of text as a <p> (line breaks kept), its "- " lines as a <ul>.
  function block(paragraph, className) {
    var fragment = document.createDocumentFragment();
    var p = null;
    var ul = null;
    paragraph.split("\n").forEach(function (line) {
      if (LIST_ITEM.test(line)) {
        p = null;
        if (!ul) ul = fragment.appendChild(el("ul"));
        ul.appendChild(el("li", {}, [inline(line.replace(LIST_ITEM, ""))]));
      } else {
        ul = null;
        if (p) p.appendChild(el("br"));
        else p = fragment.appendChild(el("p", className ? { class: className } : {}));
        p.appendChild(inline(line.trim()));
      }
    });
    return fragment;
  }

  // Where a fold that starts at paragraphs[start] ends: a heading ("What our documents say:", or
  // "About ... in general, they say:") with the list right after it, as many times as they follow.
  function foldEnd(paragraphs, start) {
    var end = start;
    while (FOLD_HEADINGS.indexOf(paragraphs[end]) >= 0 && end + 1 < paragraphs.length && isList(paragraphs[end + 1])) {
      end += 2;
    }
    return end;
  }

  function kindOf(paragraph) {
    if (SOURCES_PREFIXES.some(function (prefix) { return paragraph.indexOf(prefix) === 0; })) return "sources";
    if (isDisclaimer(paragraph)) return "note";
    return "";
  }

  function same(a, b) { return !!a && !!b && a.replace(/\s+/g, " ").trim() === b.replace(/\s+/g, " ").trim(); }
  function isDisclaimer(paragraph) { return same(paragraph, settings.disclaimer); }
  function isWelcome(message) { return message.from === "bot" && same(message.text, TEXTS.welcome); }

  // Rasa's channels send each paragraph of a reply as a message of its own. The widget shows them as
  // one reply again: consecutive bot messages, except the welcome, up to a disclaimer.
  function replies(messages) {
    var groups = [];
    var open = false;
    messages.forEach(function (message) {
      var group = groups[groups.length - 1];
      if (open && message.from === "bot" && !isWelcome(message)) group.parts.push(message);
      else groups.push({ from: message.from, parts: [message] });
      var paragraphs = paragraphsOf(message.text || "");
      open = message.from === "bot" && !isWelcome(message) && !isDisclaimer(paragraphs[paragraphs.length - 1] || "");
    });
    return groups;
  }

  // A bot reply; the patient's choices to open or close its evidence are kept on its first message.
  function botText(text, holder) {
    var container = el("div", { class: "text" });
    var paragraphs = paragraphsOf(text);
    var folds = 0;
    var i = 0;
    while (i < paragraphs.length) {
      var end = foldEnd(paragraphs, i);
      if (end > i) {
        container.appendChild(evidence(holder, folds++, paragraphs.slice(i, end)));
        i = end;
        continue;
      }
      var paragraph = paragraphs[i];
      while (isList(paragraph) && i + 1 < paragraphs.length && isList(paragraphs[i + 1])) paragraph += "\n" + paragraphs[++i];
      container.appendChild(block(paragraph, kindOf(paragraph)));
      i += 1;
    }
    return container;
  }

  // The evidence behind a disclosure (<details>: opens with a tap, a click, Enter or Space), closed
  // by default on narrow screens, open on wide ones.
  function evidence(holder, index, paragraphs) {
    var chosen = holder.evidenceOpen && typeof holder.evidenceOpen[index] === "boolean" ? holder.evidenceOpen[index] : null;
    var open = chosen !== null ? chosen : !window.matchMedia(NARROW_SCREEN).matches;
    var body = el("div", { class: "evidence-body" });
    paragraphs.forEach(function (paragraph, n) {
      if (n === 0 && paragraph === EVIDENCE_HEADING) return;  // said by the summary
      body.appendChild(isList(paragraph) ? block(paragraph) : el("p", { class: "subheading", text: paragraph }));
    });
    var details = el("details", { class: "evidence" }, [
      el("summary", { text: EVIDENCE_HEADING.replace(/\s*:\s*$/, "") }), body]);
    details.open = open;
    details.addEventListener("toggle", function () {
      if (chosen !== null || details.open !== open) {
        holder.evidenceOpen = holder.evidenceOpen || {};
        holder.evidenceOpen[index] = chosen = details.open;
        save();
      }
    });
    return details;
  }

  function render() {
    log.textContent = "";
    var groups = replies(state.messages);
    var latest = null;
    groups.forEach(function (group, index) {
      var first = group.parts[0];
      var last = group.parts[group.parts.length - 1];
      var text = group.parts.map(function (m) { return m.text || ""; }).join("\n\n");
      var bubble = el("div", { class: "msg " + group.from });
      bubble.appendChild(el("span", { class: "sr-only", text: group.from === "user" ? "You: " : "Assistant: " }));
      bubble.appendChild(group.from === "user" ? el("div", { class: "text plain", text: text }) : botText(text, first));
      log.appendChild(bubble);
      latest = bubble;
      if (last.buttons && last.buttons.length && index === groups.length - 1) {
        log.appendChild(el("div", { class: "replies", role: "group", "aria-label": "Suggested replies" },
          last.buttons.map(function (button) {
            return el("button", { type: "button", class: "reply", text: button.title,
              onclick: function () { sendPayload(button.title, button.payload); } });
          })));
      }
    });
    scrollToLatest(latest);
  }

  // The newest reply in view; one taller than the log is shown from its first line.
  function scrollToLatest(bubble) {
    log.scrollTop = log.scrollHeight;
    if (bubble && bubble.classList.contains("bot") && bubble.offsetHeight > log.clientHeight) {
      log.scrollTop = bubble.offsetTop - 8;
    }
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
    // The server deleted the conversation ("delete my conversation"): forget it here too.
    if (message.forgotten === true) state.messages = [];
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
