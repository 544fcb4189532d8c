// Canned replies on a dispute's staff page: choosing one fills the reply box at once, without reloading the
// page (which would lose what was typed). Without JavaScript the "Use this answer" button reloads the page
// with the answer filled in (?canned=N).
(function () {
  "use strict";
  document.querySelectorAll("form[data-canned-for]").forEach(function (form) {
    var select = form.querySelector("select");
    var target = document.getElementById(form.getAttribute("data-canned-for"));
    if (!select || !target) { return; }
    function fill() {
      var option = select.options[select.selectedIndex];
      if (!option || !option.hasAttribute("data-text")) { return; }
      target.value = option.getAttribute("data-text");
      target.focus();
    }
    select.addEventListener("change", fill);
    form.addEventListener("submit", function (event) { event.preventDefault(); fill(); });
  });
})();
