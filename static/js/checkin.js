// Optional QR scanner for the check-in page, for browsers that have BarcodeDetector.
// Without it (or without a camera) the page works as it is: type the code, or scan the
// ticket with the phone's own camera app, which opens the ticket's check-in address.
(function () {
  "use strict";
  var box = document.querySelector("[data-scanner]");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var startButton = box.querySelector("[data-scanner-start]");
  var stopButton = box.querySelector("[data-scanner-stop]");
  var video = box.querySelector("[data-scanner-video]");
  var status = box.querySelector("[data-scanner-status]");
  var form = document.querySelector(".checkin-search");
  var input = document.getElementById("checkin-q");
  var stream = null;
  var timer = null;
  var detector = null;

  function say(text) {
    status.textContent = text;
  }

  function stop() {
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  // A ticket's QR code holds the address of its check-in page on this site; anything else
  // is treated as a typed code, so the search says clearly when it is unknown.
  function open(value) {
    var url = null;
    try {
      url = new URL(value, window.location.href);
    } catch (error) {
      url = null;
    }
    if (url && url.origin === window.location.origin &&
        url.pathname.indexOf("/organisers/check-in/") === 0 && /^https?:/.test(value)) {
      window.location.assign(url.pathname);
      return;
    }
    input.value = value.trim();
    form.submit();
  }

  function scan() {
    detector.detect(video).then(function (codes) {
      if (codes.length) {
        say("QR code found. Opening the ticket…");
        var value = codes[0].rawValue;
        stop();
        open(value);
        return;
      }
      timer = window.setTimeout(scan, 250);
    }).catch(function () {
      timer = window.setTimeout(scan, 500);
    });
  }

  function start() {
    say("Starting the camera…");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        startButton.hidden = true;
        stopButton.hidden = false;
        return video.play();
      })
      .then(function () {
        say("Point the camera at the ticket's QR code.");
        scan();
      })
      .catch(function () {
        stop();
        say("The camera is not available. Type the ticket code or a name instead.");
      });
  }

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") === -1) {
      return;
    }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    startButton.addEventListener("click", start);
    stopButton.addEventListener("click", function () {
      stop();
      say("Scanning stopped.");
    });
    window.addEventListener("pagehide", stop);
    box.hidden = false;
  }).catch(function () {});
})();
