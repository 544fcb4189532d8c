// Bank-transfer details: "Copy" buttons for the IBAN, the amount and the reference (on a phone, the way to
// get them into the banking app), and the QR code opened on wide screens, where a phone can scan it.
// Without JavaScript the buttons stay hidden, the values are selectable text, the QR code is one tap away.
(function () {
  "use strict";
  // Each transfer block includes this script; the page needs it once.
  if (window.portalTransferReady) { return; }
  window.portalTransferReady = true;

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    document.body.removeChild(area);
    return done;
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var status = button.nextElementSibling;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      function copied() {
        document.querySelectorAll(".copy-status").forEach(function (other) { other.textContent = ""; });
        // A role="status" region: screen readers announce the change, and it is there to see.
        if (status) { status.textContent = button.getAttribute("data-copied"); }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(copied, function () { if (fallbackCopy(text)) { copied(); } });
      } else if (fallbackCopy(text)) {
        copied();
      }
    });
  });

  var wide = window.matchMedia("(min-width: 40rem)");
  function placeQrCodes() {
    document.querySelectorAll("details[data-open-when-wide]").forEach(function (details) {
      details.open = wide.matches;
      details.classList.toggle("qr-open-wide", wide.matches);
    });
  }
  placeQrCodes();
  if (wide.addEventListener) { wide.addEventListener("change", placeQrCodes); }
})();
