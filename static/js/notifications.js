// Keeps the bell's unread count live over a websocket; the page shows the count on load anyway.
(function () {
  "use strict";
  var bell = document.getElementById("notification-bell");
  var badge = document.getElementById("notification-count");
  if (!bell || !badge || !window.WebSocket) { return; }
  var delay = 1000;
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + bell.dataset.socket);
    socket.onmessage = function (event) {
      var data = JSON.parse(event.data);
      if (typeof data.unread === "number") {
        badge.textContent = data.unread;
        badge.setAttribute("aria-label", data.unread + " unread");
      }
    };
    socket.onopen = function () { delay = 1000; };
    socket.onclose = function (event) {
      if (event.code === 4401) { return; }  // signed out: do not retry
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
})();
