// The API key list's search: a whole key pasted into it is cut to its public prefix
// (sk_live_ + 8) before the search is sent, so the secret never reaches a URL, a browser's
// history or an access log. The prefix alone finds the key.
"use strict";
(function () {
  const FULL_KEY = /^\s*(sk_live_[A-Za-z0-9]{8})[A-Za-z0-9]{32}\s*$/;
  function trim(input) {
    const match = FULL_KEY.exec(input.value);
    if (match) {
      input.value = match[1];
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("changelist-search");
    const input = document.getElementById("searchbar");
    if (!form || !input) {
      return;
    }
    input.addEventListener("input", function () { trim(input); });
    form.addEventListener("submit", function () { trim(input); });
  });
})();
