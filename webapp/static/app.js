// Search as the agent types: fetch the result cards from /results and swap them in.
(function () {
  "use strict";
  const input = document.getElementById("q");
  const results = document.getElementById("results");
  if (!input || !results) return;
  const DEBOUNCE_MS = 200;
  let timer = null;
  let latest = 0;

  // The logged search the results on screen belong to; the next keystrokes refine it rather than log anew.
  function currentSearch() {
    const list = results.querySelector("ol.results");
    return list ? { id: list.dataset.searchId || null, version: list.dataset.indexVersion } : { id: null };
  }

  async function refresh() {
    const query = input.value.trim();
    const ticket = ++latest;
    const params = new URLSearchParams(new FormData(input.form));
    params.set("q", query);
    const url = new URL(window.location.href);
    params.forEach(function (value, key) { url.searchParams.set(key, value); });
    window.history.replaceState(null, "", url);
    const previous = currentSearch().id;
    if (previous && query) params.set("after", previous);
    try {
      const response = await fetch("/results?" + params.toString(), { headers: { Accept: "text/html" } });
      const html = await response.text();
      if (ticket === latest) results.innerHTML = html;  // drop answers to older keystrokes
    } catch (err) {
      // The form still works without the script; keep the last results on a network hiccup.
    }
  }

  function post(path, body) {
    return fetch(path, { method: "POST", keepalive: true, headers: { "Content-Type": "application/json" },
                         body: JSON.stringify(body) });
  }

  const strings = JSON.parse((document.getElementById("ui-strings") || {}).textContent || "{}");

  // A reply's text as the customer gets it: typed values, else fallbacks; null (and the first empty field
  // marked and focused) while a placeholder without fallback is still empty, so "{...}" is never copied.
  function replyText(figure) {
    let text = "";
    let missing = null;
    figure.querySelectorAll(".reply-text > *").forEach(function (node) {
      if (node.tagName !== "INPUT") { text += node.textContent; return; }
      const value = node.value.trim();
      const fallback = node.getAttribute("data-fallback");
      node.classList.remove("missing");
      if (value) { text += value; return; }
      if (fallback !== null) { text += fallback === "" ? "\u0000" : fallback; return; }
      node.classList.add("missing");
      if (!missing) missing = node;
    });
    if (missing) { missing.focus(); return null; }
    // An empty fallback leaves no stray space before punctuation: "Hei {kundenavn}," becomes "Hei,".
    return text.replace(/[ \t]*\u0000[ \t]*([,.!?;:])/g, "$1").replace(/[ \t]+\u0000[ \t]+/g, " ")
      .split("\u0000").join("");
  }

  async function writeClipboard(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try { await navigator.clipboard.writeText(text); return true; } catch (err) { /* fall through */ }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (err) { copied = false; }
    document.body.removeChild(area);
    return copied;
  }

  async function copyReply(figure) {
    const status = figure.querySelector(".copy-status");
    const text = replyText(figure);
    if (text === null) {
      status.textContent = strings.fill_in || "";
      return;
    }
    const copied = await writeClipboard(text);
    status.textContent = copied ? strings.copied : strings.copy_failed;
    figure.setAttribute("data-copied", copied ? "yes" : "no");
    const card = figure.closest("li.card");
    if (copied && card) {
      post("/api/event", { search_id: currentSearch().id, kind: "copy", article_id: card.dataset.articleId,
                           channel: figure.dataset.channel }).catch(function () {});
    }
  }

  async function rate(button) {
    const card = button.closest("li.card");
    const box = button.closest(".rate");
    const search = currentSearch();
    const status = box.querySelector(".rate-status");
    try {
      const response = await post("/api/feedback", {
        search_id: search.id, index_version: search.version, passage_id: Number(card.dataset.passageId),
        rating: button.dataset.rating, comment: box.querySelector(".rate-comment").value,
      });
      status.textContent = response.ok ? strings.rate_thanks : strings.rate_failed;
      box.setAttribute("data-rated", response.ok ? button.dataset.rating : "failed");
    } catch (err) {
      status.textContent = strings.rate_failed;
    }
  }

  results.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy");
    if (button) copyReply(button.closest(".reply"));
    const rating = event.target.closest("button.rating");
    if (rating) rate(rating);
  });
  // The same placeholder twice in one reply is one field: typing in one fills the others.
  results.addEventListener("input", function (event) {
    const field = event.target;
    if (!field.classList || !field.classList.contains("placeholder")) return;
    field.classList.remove("missing");
    field.closest(".reply").querySelectorAll('input[data-name="' + field.dataset.name + '"]').forEach(function (other) {
      if (other !== field) other.value = field.value;
    });
  });

  function cards() { return Array.from(results.querySelectorAll("li.card")); }

  function select(index) {
    const all = cards();
    if (!all.length) return;
    const next = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (card, i) { card.classList.toggle("selected", i === next); });
    all[next].focus();
    all[next].scrollIntoView({ block: "nearest" });
  }

  function selectedIndex() { return cards().findIndex(function (card) { return card.classList.contains("selected"); }); }

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
    const active = document.activeElement;
    const typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT");
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
      input.select();
    } else if (event.key === "ArrowDown" && (!typing || active === input)) {
      event.preventDefault();
      select(selectedIndex() + 1);
    } else if (event.key === "ArrowUp" && !typing) {
      event.preventDefault();
      if (selectedIndex() <= 0) { cards().forEach(function (card) { card.classList.remove("selected"); }); input.focus(); }
      else select(selectedIndex() - 1);
    } else if (event.key === "c" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      const card = cards()[selectedIndex()];
      const figure = card && card.querySelector(".reply");
      if (figure) { event.preventDefault(); copyReply(figure); }
    } else if (event.key === "Escape" && active !== input) {
      input.focus();
    }
  });
})();
