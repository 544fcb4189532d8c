// The pay page, enhanced: the total of the ticked invoices and the amount on the button follow the
// ticks and the typed part-payment, and the amount field shows only when "Part of it now" is chosen.
// Without JavaScript the page works as sent: the server's total, and the amount field always visible.
(function () {
  "use strict";
  var form = document.querySelector(".pay-form");
  if (!form) { return; }
  var format = {};
  function money(cents, currency) {
    if (!format[currency]) {
      format[currency] = new Intl.NumberFormat(form.getAttribute("data-locale") || "nl-NL", {style: "currency", currency: currency});
    }
    return format[currency].format(cents / 100);
  }
  // The server's rules (portal/money.py), so the button never names an amount the server would refuse.
  var PLAIN = /^([0-9]+)(?:[.,]([0-9]{1,2}))?$/;
  var GROUPED = /^([0-9]{1,3}([.,])[0-9]{3}(?:\2[0-9]{3})*)(?!\2)[.,]([0-9]{1,2})$/;
  function typedCents(text) {
    var value = (text || "").trim().replace(/^(€|EUR)\s*/i, "");
    var match = value.match(PLAIN);
    var fraction;
    if (match) { fraction = match[2]; } else {
      match = value.match(GROUPED);
      if (!match) { return null; }
      fraction = match[3];
    }
    var whole = match[1].replace(/[.,]/g, "").replace(/^0+/, "");
    if (whole.length > 7) { return null; }
    var cents = Number(whole || "0") * 100 + Number((fraction || "").padEnd(2, "0") || "0");
    return cents > 0 ? cents : null;
  }

  var boxes = form.querySelectorAll('input[name="invoice"]');
  var total = form.querySelector("[data-pay-total]");
  var numbers = form.querySelector("[data-pay-numbers]");
  var partOf = form.querySelector("[data-pay-of]");
  var amount = form.querySelector("[data-pay-amount]");
  var withAmount = form.querySelector("[data-pay-label-amount]");
  var plain = form.querySelector("[data-pay-label-plain]");
  var partialBox = form.querySelector("[data-partial-amount]");
  var partialInput = partialBox ? partialBox.querySelector("input") : null;
  var partialChoice = form.querySelector('input[name="amount_choice"][value="partial"]');

  function partialChosen() { return !!(partialChoice && partialChoice.checked); }

  function update() {
    var cents = 0, currencies = [], chosen = [];
    boxes.forEach(function (box) {
      if (!box.checked) { return; }
      cents += Number(box.getAttribute("data-cents"));
      chosen.push(box.value);
      var currency = box.getAttribute("data-currency");
      if (currencies.indexOf(currency) < 0) { currencies.push(currency); }
    });
    var currency = currencies[0] || (boxes[0] && boxes[0].getAttribute("data-currency")) || "EUR";
    var shownTotal = currencies.length === 1 ? cents : 0;
    // A part-payment: the summary says what will be paid, "part of" the chosen invoices' total (as the button).
    var part = currencies.length === 1 && partialChosen() ? typedCents(partialInput && partialInput.value) : null;
    if (total) { total.textContent = money(part !== null ? part : shownTotal, currency); }
    if (partOf) {
      partOf.hidden = part === null;
      partOf.textContent = part === null ? "" : partOf.getAttribute("data-pattern").replace("{amount}", money(shownTotal, currency));
    }
    if (numbers) {
      var pattern = numbers.getAttribute(chosen.length === 1 ? "data-one" : "data-other");
      numbers.textContent = chosen.length ? pattern.replace("{numbers}", chosen.join(", ")) : numbers.getAttribute("data-none");
    }
    var onButton = currencies.length === 1 ? cents : null;
    if (onButton !== null && partialChosen()) { onButton = typedCents(partialInput && partialInput.value); }
    if (amount && onButton !== null) { amount.textContent = money(onButton, currency); }
    if (withAmount) { withAmount.hidden = onButton === null; }
    if (plain) { plain.hidden = onButton !== null; }
    if (partialBox) {
      // An error the server found stays in view, whatever is chosen.
      var show = partialChosen() || partialBox.classList.contains("field-error");
      partialBox.hidden = !show;
      // A hidden amount is not sent: "Everything" then means everything.
      if (partialInput) { partialInput.disabled = !show; }
    }
  }

  // Switching language reloads the page: it opens with the same choices (the ticked invoices, the method, all
  // or part, and the part amount exactly as typed), not the defaults again. They go into the link's "next"
  // address as the form would send them; the server reads them there (portal/payments/views.py).
  var KEPT = ["invoice", "method", "amount_choice", "partial_amount"];
  var languageLinks = document.querySelectorAll("a[hreflang]");
  function keepChoicesAcrossLanguages() {
    var kept = new URLSearchParams();
    // A disabled field (the amount while "Everything" is chosen) is left out, as the form leaves it out.
    new FormData(form).forEach(function (value, name) {
      if (KEPT.indexOf(name) >= 0 && value !== "") { kept.append(name, value); }
    });
    if (!kept.has("invoice")) { kept.append("invoice", ""); }
    languageLinks.forEach(function (link) {
      var target = new URL(link.href, window.location.href);
      if (!target.searchParams.has("next")) { return; }
      target.searchParams.set("next", window.location.pathname + "?" + kept.toString());
      link.href = target.pathname + target.search;
    });
  }

  function changed() {
    update();
    keepChoicesAcrossLanguages();  // after update(), which enables or disables the amount field
  }
  form.addEventListener("change", changed);
  form.addEventListener("input", changed);  // a typed amount counts before the field loses focus
  changed();
})();
