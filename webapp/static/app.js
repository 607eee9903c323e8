// Search as the agent types: fetch the result cards from /results and swap them in.
(function () {
  "use strict";
  const input = document.getElementById("q");
  const results = document.getElementById("results");
  if (!input || !results) return;
  const DEBOUNCE_MS = 200;
  let timer = null;
  let latest = 0;

  async function refresh() {
    const query = input.value.trim();
    const ticket = ++latest;
    const params = new URLSearchParams(new FormData(input.form));
    params.set("q", query);
    const url = new URL(window.location.href);
    params.forEach(function (value, key) { url.searchParams.set(key, value); });
    window.history.replaceState(null, "", url);
    try {
      const response = await fetch("/results?" + params.toString(), { headers: { Accept: "text/html" } });
      const html = await response.text();
      if (ticket === latest) results.innerHTML = html;  // drop answers to older keystrokes
    } catch (err) {
      // The form still works without the script; keep the last results on a network hiccup.
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  });
  input.form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", refresh);
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    refresh();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== input) {
      event.preventDefault();
      input.focus();
      input.select();
    }
  });
})();
