// The member's live counts over one websocket: the bell, the "Messages" link, and each conversation's
// unread count and last message wherever a page shows them (elements marked with data attributes:
// data-messages-unread, data-conversation-unread="<id>", data-conversation-last="<id>"). Every page shows
// the counts on load too, so without the socket nothing is wrong, only not live.
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  var badge = document.getElementById("notification-count");
  if (!bell || !badge || !window.WebSocket) { return; }
  var delay = 1000;

  function setCount(element, count) {
    var slot = element.querySelector("[data-count]");
    (slot || element).textContent = String(count);
  }

  function each(selector, callback) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), callback);
  }

  function showUnread(conversationId, count) {
    each('[data-conversation-unread="' + Number(conversationId) + '"]', function (element) {
      setCount(element, count);
      element.classList.toggle("d-none", !count);
    });
  }

  function showLast(conversationId, last) {
    each('[data-conversation-last="' + Number(conversationId) + '"]', function (element) {
      element.textContent = last.sender + ": " + last.body;  // text, never HTML
    });
  }

  function showInbox(inbox) {
    if (inbox.counts) {
      Object.keys(inbox.counts).forEach(function (id) { showUnread(id, inbox.counts[id]); });
    }
    if (inbox.conversation !== undefined) {
      if (typeof inbox.unread === "number") { showUnread(inbox.conversation, inbox.unread); }
      if (inbox.last) { showLast(inbox.conversation, inbox.last); }
    }
    if (typeof inbox.total === "number") {
      each("[data-messages-unread]", function (element) { setCount(element, inbox.total); });
    }
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + bell.dataset.socket);
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (typeof data.unread === "number") {
        badge.textContent = data.unread;
        badge.setAttribute("aria-label", data.unread + " unread");
      }
      if (data.inbox) { showInbox(data.inbox); }
    };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function (event) {
      if (event.code === 4401) { return; }  // signed out: do not retry
      setTimeout(connect, delay + Math.random() * 1000);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
