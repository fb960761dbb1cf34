// Copy buttons: <button class="copy" data-copy="ID"> copies the value of the field with
// that id, and says so in the page's role="status" line. A static file, so the pages'
// Content-Security-Policy needs no inline script.
(function () {
  "use strict";
  function announce(button, text) {
    var status = document.querySelector(".copied");
    if (status) { status.textContent = text; }
  }
  function copy(event) {
    var button = event.currentTarget;
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var label = button.textContent;
    function done() {
      announce(button, "Copied to the clipboard.");
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 2000);
    }
    function fallback() {
      field.focus();
      field.select();
      try {
        if (document.execCommand("copy")) { done(); return; }
      } catch (error) { /* nothing more to try */ }
      announce(button, "Selected: press Ctrl+C (or Cmd+C) to copy.");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, fallback);
    } else {
      fallback();
    }
  }
  function ready() {
    var buttons = document.querySelectorAll("button.copy[data-copy]");
    for (var i = 0; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", copy);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
}());
