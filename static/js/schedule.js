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
