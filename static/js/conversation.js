// The pair's conversation, live over a websocket. Without it (scripts off, socket blocked) the page is a plain
// form and a reload. On every (re)connect the page asks for what it missed after the last id it shows.
(function () {
  "use strict";
  var list = document.getElementById("conversation-messages");
  var live = document.getElementById("conversation-live");
  var form = document.getElementById("conversation-composer");
  if (!list || list.dataset.live !== "yes" || !window.WebSocket) { return; }
  var textarea = form ? form.querySelector("textarea[name=body]") : null;
  var errorBox = document.getElementById("message-error");
  // The special-category warning (edit, or send anyway) and its text, rendered hidden by the page.
  var warningBox = document.getElementById("special-warning");
  var warningText = document.getElementById("special-warning-text");
  var socket = null;
  var delay = 1000;

  function lastId() {
    var items = list.querySelectorAll("[data-message-id]");
    return items.length ? parseInt(items[items.length - 1].dataset.messageId, 10) : 0;
  }

  function showError(text) {
    if (!errorBox || !textarea) { return; }
    errorBox.textContent = text;
    errorBox.classList.toggle("d-block", !!text);
    textarea.classList.toggle("is-invalid", !!text);
  }

  function showWarning(text) {
    if (!warningBox || !warningText) { return; }
    warningText.textContent = text;
    warningBox.hidden = !text;
  }

  // A held or rejected message (only ever its sender's) shows a badge and says why.
  function markStatus(item, message) {
    if (!message.status || message.status === "delivered") { return; }
    item.dataset.status = message.status;
    item.classList.add("border-start", "border-3", "border-warning", "ps-2");
    var badge = document.createElement("span");
    badge.className = "badge ms-1 " + (message.status === "held" ? "text-bg-warning" : "text-bg-secondary");
    badge.textContent = message.status === "held" ? "Held" : "Not delivered";
    item.firstChild.appendChild(badge);
    var notice = document.createElement("p");
    notice.className = "small mb-0 mt-1";
    notice.dataset.testid = "message-notice";
    notice.textContent = message.notice || "";
    item.appendChild(notice);
  }

  function append(message) {
    if (message.released_from) {  // a held message was released: its delivered copy replaces it
      var held = list.querySelector('[data-message-id="' + message.released_from + '"]');
      if (held) { held.remove(); }
    }
    if (list.querySelector('[data-message-id="' + message.id + '"]')) { return; }  // already shown
    var empty = document.getElementById("conversation-empty");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "mb-3";
    item.dataset.messageId = String(message.id);
    var meta = document.createElement("div");
    meta.className = "small text-body-secondary";
    var who = document.createElement("strong");
    who.textContent = message.sender;
    var when = document.createElement("time");
    when.setAttribute("datetime", message.created_at);
    when.textContent = " " + new Date(message.created_at).toLocaleString();
    meta.appendChild(who);
    meta.appendChild(when);
    var body = document.createElement("div");
    body.className = "text-break";
    body.style.whiteSpace = "pre-line";
    body.textContent = message.body;  // never innerHTML: the text is the member's own words
    item.appendChild(meta);
    item.appendChild(body);
    markStatus(item, message);
    list.appendChild(item);
    if (String(message.sender_id) !== list.dataset.me && live) {
      live.textContent = "New message from " + message.sender + ": " + message.body;
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + list.dataset.socket);
    socket.onopen = function () {
      delay = 1000;
      socket.send(JSON.stringify({ action: "resume", after: lastId() }));
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.message) {
        append(data.message);
      } else if (data.error) {
        showError(data.error);
      } else if (data.warning) {
        showWarning(data.warning);  // nothing was sent: the writer edits it or sends it anyway
      } else if (data.held) {
        showError("");
        showWarning("");
        append(data.held);
        if (textarea) { textarea.value = ""; }
        if (live) { live.textContent = data.held.notice; }
      } else if (typeof data.ok === "number") {
        showError("");
        showWarning("");
        if (textarea) { textarea.value = ""; }
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4401 || event.code === 4403) { return; }  // signed out or not theirs: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      // With no open socket the form posts as usual.
      if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
      event.preventDefault();
      var confirmSpecial = !!(event.submitter && event.submitter.name === "confirm_special");
      socket.send(JSON.stringify({ action: "send", body: textarea.value, confirm_special: confirmSpecial }));
    });
  }
  connect();
})();
