// "Copy" buttons: <button data-copy-target="ID"> copies the value of the field with that id.
// Without JavaScript the button stays hidden and the read-only field is still easy to select and copy.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) { return; }
    var status = document.getElementById(field.id + "-status");
    function copied() {
      if (status) { status.textContent = button.getAttribute("data-copied-message") || ""; }
    }
    function fallback() {
      field.select();
      if (document.execCommand("copy")) { copied(); }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, fallback);
      } else {
        fallback();
      }
    });
  });
})();
