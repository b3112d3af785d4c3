// The pair's conversation, live over a websocket. Without it (scripts off, socket blocked) the page is a plain
// form and a reload. On every (re)connect the page asks for what it missed after the last id it shows.
//
// Frames (messaging/consumers.py, ConversationConsumer): it sends {"action": "resume"|"send"|"read", ...} and
// receives {"message": …} (with "catch_up": true when resuming), {"ok": id, "message": …}, {"error": …} and
// {"read": {"by": id, "up_to": id}}. While the page is visible it tells the server what it has shown, so the
// partner sees "Read"; a screen reader hears new messages through a polite live region, summed up when
// several arrive at once (a catch-up is one announcement, not one per message).
(function () {
  "use strict";
  var list = document.getElementById("conversation-messages");
  var live = document.getElementById("conversation-live");
  var form = document.getElementById("conversation-composer");
  if (!list || list.dataset.live !== "yes" || !window.WebSocket) { return; }
  var textarea = form ? form.querySelector("textarea[name=body]") : null;
  var errorBox = document.getElementById("message-error");
  var me = list.dataset.me;
  var partnerName = list.dataset.partner || "";
  // The special-category warning (edit, or send anyway) and its text, rendered hidden by the page.
  var warningBox = document.getElementById("special-warning");
  var warningText = document.getElementById("special-warning-text");
  var socket = null;
  var delay = 1000;
  var sent = {};  // ref → text, for the sends not yet answered
  var nextRef = 0;
  var lastReadSent = newestFromPartner();  // the page load marked everything shown as read
  var readTimer = null;
  var heard = [];  // partner messages not yet announced
  var announceTimer = null;
  var receiptUpTo = 0;

  function items() { return list.querySelectorAll("[data-message-id]"); }

  function idOf(item) { return parseInt(item.dataset.messageId, 10); }

  function lastId() {
    var all = items();
    return all.length ? idOf(all[all.length - 1]) : 0;
  }

  function newestFromPartner() {
    var all = items();
    for (var i = all.length - 1; i >= 0; i--) {
      if (all[i].dataset.senderId !== me) { return idOf(all[i]); }
    }
    return 0;
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

  // As the page shows times: in the member's own time zone, 24-hour.
  function shownTime(iso) {
    var options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    try {
      return new Date(iso).toLocaleString("en-GB", Object.assign({ timeZone: list.dataset.timeZone }, options));
    } catch (e) {
      return new Date(iso).toLocaleString("en-GB", options);  // a zone the browser does not know
    }
  }

  function render(message) {
    var item = document.createElement("li");
    item.className = "mb-3";
    item.dataset.messageId = String(message.id);
    item.dataset.senderId = String(message.sender_id);
    var meta = document.createElement("div");
    meta.className = "small text-body-secondary";
    var who = document.createElement("strong");
    who.textContent = message.sender;
    var when = document.createElement("time");
    when.setAttribute("datetime", message.created_at);
    when.textContent = " " + shownTime(message.created_at);
    meta.appendChild(who);
    meta.appendChild(when);
    var body = document.createElement("div");
    body.className = "text-break";
    body.style.whiteSpace = "pre-line";
    body.textContent = message.body;  // never innerHTML: the text is the member's own words
    item.appendChild(meta);
    item.appendChild(body);
    markStatus(item, message);
    return item;
  }

  // In id order, once each: a catch-up may repeat a message the page has, or arrive after a newer one.
  function insert(message) {
    if (message.released_from) {  // a held message was released: its delivered copy replaces it
      var held = list.querySelector('[data-message-id="' + Number(message.released_from) + '"]');
      if (held) { held.remove(); }
    }
    if (list.querySelector('[data-message-id="' + Number(message.id) + '"]')) { return false; }
    var empty = document.getElementById("conversation-empty");
    if (empty) { empty.remove(); }
    var item = render(message);
    var all = items();
    var before = null;
    for (var i = all.length - 1; i >= 0 && idOf(all[i]) > message.id; i--) { before = all[i]; }
    list.insertBefore(item, before);
    return true;
  }

  function announce(message) {
    heard.push(message);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(function () {
      if (!live || !heard.length) { return; }
      var text = heard.length === 1
        ? "New message from " + heard[0].sender + ": " + heard[0].body
        : heard.length + " new messages from " + heard[heard.length - 1].sender + ".";
      heard = [];
      live.textContent = text;
    }, 400);
  }

  function receipt(upTo) {
    if (upTo <= receiptUpTo) { return; }
    receiptUpTo = upTo;
    var all = items();
    var target = null;
    for (var i = all.length - 1; i >= 0; i--) {
      if (all[i].dataset.senderId === me && idOf(all[i]) <= upTo) { target = all[i]; break; }
    }
    if (!target || target.querySelector("[data-read-receipt]")) { return; }
    Array.prototype.forEach.call(list.querySelectorAll("[data-read-receipt]"), function (old) { old.remove(); });
    var mark = document.createElement("div");
    mark.className = "small text-body-secondary";
    mark.setAttribute("data-read-receipt", "");
    mark.textContent = "Read";
    var whom = document.createElement("span");
    whom.className = "visually-hidden";
    whom.textContent = " by " + partnerName;
    mark.appendChild(whom);
    target.appendChild(mark);
  }

  // Tell the server what a visible page has shown, at most once per burst of messages.
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      if (document.visibilityState !== "visible" || !socket || socket.readyState !== WebSocket.OPEN) { return; }
      var newest = newestFromPartner();
      if (newest > lastReadSent) {
        lastReadSent = newest;
        socket.send(JSON.stringify({ action: "read", up_to: lastId() }));
      }
    }, 300);
  }

  function received(data) {
    if (typeof data.ok === "number") {
      showError("");
      showWarning("");
      if (data.message) { insert(data.message); }  // stored: the answer carries it (not sent again live)
      if (data.held) {  // held for carrying contact details (R-MSG-7): shown to its sender with why
        insert(data.held);
        if (live) { live.textContent = data.held.notice; }
      }
      if (textarea && data.ref !== undefined && textarea.value === sent[data.ref]) { textarea.value = ""; }
      delete sent[data.ref];
    } else if (data.message) {
      if (insert(data.message) && String(data.message.sender_id) !== me) {
        announce(data.message);
        markRead();
      }
    } else if (data.read) {
      if (String(data.read.by) !== me) { receipt(data.read.up_to); }
    } else if (data.error) {
      if (data.ref === undefined || sent[data.ref] !== undefined) {
        showError(data.error);
        if (data.ref !== undefined) { showWarning(""); }  // an earlier text's warning no longer applies
      }
      delete sent[data.ref];
    } else if (data.warning) {
      showError("");
      showWarning(data.warning);  // nothing was sent: the writer edits it or sends it anyway
      delete sent[data.ref];
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + list.dataset.socket);
    socket.onopen = function () {
      delay = 1000;
      socket.send(JSON.stringify({ action: "resume", after: lastId() }));
      markRead();
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      received(data);
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 4401 || event.code === 4403) { return; }  // signed out or not theirs: do not retry
      setTimeout(connect, delay + Math.random() * 1000);
      delay = Math.min(delay * 2, 30000);
    };
  }

  if (form && textarea) {
    form.addEventListener("submit", function (event) {
      // With no open socket the form posts as usual.
      if (!socket || socket.readyState !== WebSocket.OPEN) { return; }
      event.preventDefault();
      var ref = "s" + (nextRef += 1);
      sent[ref] = textarea.value;
      var confirmSpecial = !!(event.submitter && event.submitter.name === "confirm_special");
      socket.send(JSON.stringify({ action: "send", body: textarea.value, ref: ref, confirm_special: confirmSpecial }));
    });
  }
  document.addEventListener("visibilitychange", markRead);
  connect();
})();
