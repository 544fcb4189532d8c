// A page reached to show the result of an action (its address ends in #messages): move the focus to that result,
// so it is read first. Other pages with a message (the log-in page after a time-out, say) keep the usual focus order.
(function () {
  if (window.location.hash !== "#messages") return;
  var messages = document.getElementById("messages");
  if (messages) messages.focus();
})();
