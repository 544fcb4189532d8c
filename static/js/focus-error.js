// After a refused form, the page opens on what went wrong: its error summary, else the first field marked invalid.
// Keyboard and screen-reader users start there instead of at the top of an unchanged-looking page.
(function () {
  var target = document.getElementById("error-summary") || document.querySelector('main [aria-invalid="true"]');
  if (target) { target.focus(); }
})();
