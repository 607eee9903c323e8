// Search as the agent types: fetch the result cards from /results and swap them in.
(function () {
  "use strict";
  const input = document.getElementById("q");
  const results = document.getElementById("results");
  if (!input || !results) return;
  const DEBOUNCE_MS = 200;
  // Well under the request line servers and proxies accept (gunicorn: 8,190 bytes; many proxies: 8 kB).
  const MAX_URL_CHARS = 2000;
  let timer = null;
  let latest = 0;

  // The logged search the results on screen belong to; the next keystrokes refine it rather than log anew.
  // With a pasted message each need has a list (and a search) of its own: `near` picks the one it is in.
  function currentSearch(near) {
    const list = (near && near.closest("ol.results")) || results.querySelector("ol.results");
    return list ? { id: list.dataset.searchId || null, version: list.dataset.indexVersion } : { id: null };
  }

  async function refresh() {
    const query = input.value.trim();
    const ticket = ++latest;
    const params = new URLSearchParams(new FormData(input.form));
    params.set("q", query);
    const url = new URL(window.location.href);
    params.forEach(function (value, key) { url.searchParams.set(key, value); });
    // A pasted e-mail makes a URL longer than servers take; the address bar then keeps only the filters.
    if (url.href.length > MAX_URL_CHARS) url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
    const previous = currentSearch().id;
    if (previous && query) params.set("after", previous);
    try {
      // POST: the question goes in the body, which has room for the longest question the box takes.
      const response = await fetch("/results", { method: "POST", body: params, headers: { Accept: "text/html" } });
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
      post("/api/event", { search_id: currentSearch(card).id, kind: "copy", article_id: card.dataset.articleId,
                           channel: figure.dataset.channel }).catch(function () {});
    }
    // The reply to a whole message counts as used for each need it answers.
    if (copied && figure.dataset.sources) {
      JSON.parse(figure.dataset.sources).forEach(function (source) {
        post("/api/event", { search_id: source.search_id, kind: "copy", article_id: source.article_id,
                             channel: figure.dataset.channel }).catch(function () {});
      });
    }
  }

  async function rate(button) {
    const card = button.closest("li.card");
    const box = button.closest(".rate");
    const search = currentSearch(card);
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

  // Escalate: open the hand-off form on a result, write the note for its route's department, copy it.
  function openHandoff(card) {
    const route = card && card.querySelector(".route");
    if (!route) return false;
    const panel = route.querySelector(".handoff");
    panel.hidden = false;
    route.querySelector("button.escalate").setAttribute("aria-expanded", "true");
    route.querySelector(".handoff-added").focus();
    return true;
  }

  // What a result answers: the need of a pasted message it was found for, else the question typed.
  function questionOf(card) {
    const need = card.closest("section.need");
    return need ? need.dataset.text : input.value;
  }

  async function writeHandoff(route) {
    const card = route.closest("li.card");
    const status = route.querySelector(".handoff-status");
    try {
      const response = await post("/api/handoff", {
        question: questionOf(card), department: route.dataset.department, articles: [card.dataset.articleId],
        note: route.querySelector(".handoff-added").value, search_id: currentSearch(card).id,
      });
      const body = await response.json();
      if (!response.ok) { status.textContent = (strings.handoff_failed || "") + " " + (body.error || ""); return; }
      const note = route.querySelector(".handoff-note");
      note.value = body.text;
      route.querySelector(".handoff-result").hidden = false;
      const copy = route.querySelector(".handoff-copy");
      copy.hidden = false;
      status.textContent = "";
      copy.focus();
    } catch (err) {
      status.textContent = strings.handoff_failed;
    }
  }

  async function copyHandoff(route) {
    const copied = await writeClipboard(route.querySelector(".handoff-note").value);
    route.querySelector(".handoff-status").textContent = copied ? strings.handoff_copied : strings.copy_failed;
    route.setAttribute("data-copied", copied ? "yes" : "no");
  }

  results.addEventListener("click", function (event) {
    const button = event.target.closest("button.copy");
    if (button) copyReply(button.closest(".reply"));
    const rating = event.target.closest("button.rating");
    if (rating) rate(rating);
    if (event.target.closest("button.escalate")) openHandoff(event.target.closest("li.card"));
    if (event.target.closest("button.handoff-write")) writeHandoff(event.target.closest(".route"));
    if (event.target.closest("button.handoff-copy")) copyHandoff(event.target.closest(".route"));
  });
  results.addEventListener("keydown", function (event) {
    // Ctrl+Enter in the agent's addition writes the note without reaching for the button.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.classList.contains("handoff-added")) {
      event.preventDefault();
      writeHandoff(event.target.closest(".route"));
    }
  });

  // The customer's own feedback: pick complaint, compliment or suggestion, then save (two clicks).
  const contact = document.querySelector(".contact-feedback");
  if (contact) {
    let kind = null;
    contact.addEventListener("click", async function (event) {
      const chosen = event.target.closest("button.contact-kind");
      if (chosen) {
        kind = chosen.dataset.kind;
        contact.querySelectorAll("button.contact-kind").forEach(function (b) {
          b.setAttribute("aria-pressed", b === chosen ? "true" : "false");
        });
        const first = results.querySelector("li.card[data-product]:not([data-product=''])");
        const product = contact.querySelector(".contact-product");
        if (first && !product.value) product.value = first.dataset.product;
        contact.querySelector(".contact-details").hidden = false;
        contact.querySelector(".contact-status").textContent = "";
        contact.querySelector(".contact-save").focus();
      }
      if (event.target.closest("button.contact-save") && kind) {
        const status = contact.querySelector(".contact-status");
        try {
          const response = await post("/api/contact-feedback", {
            kind: kind, product: contact.querySelector(".contact-product").value,
            comment: contact.querySelector(".contact-comment").value, search_id: currentSearch().id,
          });
          status.textContent = response.ok ? strings.contact_thanks : strings.contact_failed;
          contact.setAttribute("data-saved", response.ok ? kind : "failed");
          if (response.ok) {
            contact.querySelector(".contact-comment").value = "";
            contact.querySelector(".contact-details").hidden = true;
          }
        } catch (err) {
          status.textContent = strings.contact_failed;
        }
      }
    });
  }
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

  // Paste mode: the customer's whole message in a box of its own, each need answered, one reply for all.
  const assistForm = document.getElementById("assist-form");
  const message = document.getElementById("message");
  const toggle = document.getElementById("paste-toggle");
  const channel = document.getElementById("channel");
  // More than one sentence, or more than one line, is a message rather than a question.
  const MESSAGE_PATTERN = /[.!?]\s+\S|\n\s*\S/;

  function openPasteMode(text) {
    if (!assistForm) return;
    assistForm.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    if (typeof text === "string") message.value = text;
    message.focus();
  }

  function closePasteMode() {
    assistForm.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    input.focus();
  }

  async function assist() {
    const ticket = ++latest;
    const body = new FormData(assistForm);
    new FormData(input.form).forEach(function (value, key) { if (key !== "q") body.set(key, value); });
    results.setAttribute("aria-busy", "true");
    try {
      const response = await fetch("/assist-results", { method: "POST", body: body, headers: { Accept: "text/html" } });
      const html = await response.text();
      if (ticket === latest) results.innerHTML = html;
    } catch (err) {
      // Keep what is on screen; the form still posts without the script.
    } finally {
      results.removeAttribute("aria-busy");
    }
  }

  if (assistForm) {
    toggle.addEventListener("click", function () {
      if (assistForm.hidden) openPasteMode(); else closePasteMode();
    });
    document.getElementById("paste-close").addEventListener("click", closePasteMode);
    assistForm.addEventListener("submit", function (event) {
      event.preventDefault();
      assist();
    });
    message.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        assist();
      }
    });
    input.addEventListener("paste", function (event) {
      const text = (event.clipboardData || window.clipboardData).getData("text");
      if (!MESSAGE_PATTERN.test(text.trim())) return;
      event.preventDefault();
      clearTimeout(timer);
      openPasteMode(text);
      assist();
    });
    if (channel) channel.addEventListener("change", function () {
      assistForm.querySelector('input[name="channel"]').value = channel.value;
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  });
  input.form.querySelectorAll("select").forEach(function (select) {
    select.addEventListener("change", function () {
      if (assistForm && !assistForm.hidden && message.value.trim()) assist(); else refresh();
    });
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
    } else if (event.key === "e" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (openHandoff(cards()[selectedIndex()])) event.preventDefault();
    } else if (event.key === "Escape" && active === message) {
      closePasteMode();
    } else if (event.key === "Escape" && active !== input) {
      input.focus();
    }
  });
})();
