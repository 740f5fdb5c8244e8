// Offer the browser's own time zone as a choice; never switch to it by itself,
// because people travelling to the event want the event's times.
(function () {
  "use strict";
  var hint = document.querySelector(".zone-suggest");
  if (!hint || !window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!browserZone || browserZone === hint.dataset.current) {
    return;
  }
  var select = document.getElementById("tz-select");
  var known = select && Array.prototype.some.call(select.options, function (option) {
    return option.value === browserZone;
  });
  if (!known) {
    return;
  }
  var link = document.createElement("a");
  link.href = "?tz=" + encodeURIComponent(browserZone);
  link.textContent = "Show times in your time zone (" + browserZone + ")";
  hint.appendChild(link);
  hint.hidden = false;
})();

// Keep "On now" right while the schedule stays open or comes back from a cache: the server
// marked what was on when it rendered the page; the browser's clock moves the mark on.
(function () {
  "use strict";
  var slots = document.querySelectorAll(".schedule-page .slot, .schedule-page .list-slot");
  if (!slots.length) {
    return;
  }
  function mark() {
    var now = Date.now();
    Array.prototype.forEach.call(slots, function (slot) {
      var times = slot.querySelectorAll(".slot-time time");
      if (times.length < 2) {
        return;
      }
      var running = Date.parse(times[0].dateTime) <= now && now < Date.parse(times[1].dateTime);
      var badge = slot.querySelector(".now-badge");
      slot.classList.toggle("is-now", running);
      if (running && !badge) {
        badge = document.createElement("strong");
        badge.className = "now-badge";
        badge.textContent = "On now";
        slot.insertBefore(badge, slot.firstChild);
      } else if (!running && badge) {
        badge.parentNode.removeChild(badge);
      }
    });
  }
  mark();
  window.setInterval(mark, 30000);
})();
