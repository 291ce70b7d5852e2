// The web inbox's keys: the same as `spear review`. Plain JavaScript, no library, no network but
// this server. Text from replies is only ever put into the page with textContent.
"use strict";

(function () {
  const page = document.body.dataset.page;
  const $ = (selector) => document.querySelector(selector);
  let pending = null; // a menu waiting for its second key ("relabel")

  function typing(event) {
    const target = event.target;
    return target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
  }

  function submit(selector) {
    const form = $(selector);
    if (form) form.requestSubmit();
    return Boolean(form);
  }

  function toggle(element, show) {
    if (element) element.hidden = show === undefined ? !element.hidden : !show;
  }

  function closeAll() {
    pending = null;
    document.querySelectorAll(".menu, .help").forEach((element) => { element.hidden = true; });
  }

  function say(text) {
    let flash = $("#flash");
    if (!flash) {
      flash = document.createElement("p");
      flash.id = "flash";
      flash.className = "flash";
      flash.setAttribute("role", "status");
      document.querySelector("main").prepend(flash);
    }
    flash.textContent = text;
  }

  async function showRaw() {
    const details = $("#raw");
    if (!details) return;
    details.open = !details.open;
    const target = $("#raw-text");
    if (details.open && !target.dataset.loaded) {
      const response = await fetch(details.dataset.src, { credentials: "same-origin" });
      target.textContent = await response.text();
      target.dataset.loaded = "1";
    }
  }

  // -- the list ----------------------------------------------------------------------------
  const rows = Array.from(document.querySelectorAll("tr[data-href]"));
  let selected = 0;

  function select(index) {
    if (!rows.length) return;
    rows[selected].classList.remove("selected");
    selected = Math.max(0, Math.min(rows.length - 1, index));
    rows[selected].classList.add("selected");
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  if (page === "queue" && rows.length) select(0);
  rows.forEach((row, index) => row.addEventListener("click", (event) => {
    if (event.target.tagName !== "A") { select(index); location.href = row.dataset.href; }
  }));

  function queueKey(key) {
    if (key === "j" || key === "ArrowDown") select(selected + 1);
    else if (key === "k" || key === "ArrowUp") select(selected - 1);
    else if ((key === "Enter" || key === "o") && rows.length) location.href = rows[selected].dataset.href;
    else return false;
    return true;
  }

  // -- one reply ---------------------------------------------------------------------------
  function replyKey(key) {
    if (pending === "relabel") {
      pending = null;
      const choice = Array.from(document.querySelectorAll("#relabel form"))
        .find((form) => form.dataset.keys.includes(key.toLowerCase()));
      toggle($("#relabel"), false);
      if (choice) choice.requestSubmit(); else say("Cancelled.");
      return true;
    }
    const decidable = Boolean($("#decide"));
    switch (key) {
      case "a":
      case "r":
      case "e":
      case "s":
        if (!decidable) { say(($("#holder") || {}).textContent || "Not yours to decide."); return true; }
        if (key === "a") submit("#accept");
        if (key === "s") submit("#skip");
        if (key === "r") { closeAll(); toggle($("#relabel"), true); pending = "relabel"; }
        if (key === "e") { closeAll(); toggle($("#edit"), true); $("#edit-line").focus(); }
        return true;
      case "v": showRaw(); return true;
      case "q": location.href = $("#back").href; return true;
      default: return false;
    }
  }

  // Keep the lease while the reply is open: another reviewer cannot take it from under us.
  const decide = $("#decide");
  if (decide) {
    const body = new URLSearchParams({ csrf: decide.dataset.csrf });
    setInterval(async () => {
      const response = await fetch(decide.dataset.renew, { method: "POST", body, credentials: "same-origin" });
      if (response.status === 409) say(await response.text());
    }, 120000);
  }

  const editOpen = $("#edit-open");
  if (editOpen) editOpen.addEventListener("click", () => replyKey("e"));
  const relabelOpen = $("#relabel-open");
  if (relabelOpen) relabelOpen.addEventListener("click", () => replyKey("r"));
  const raw = $("#raw");
  if (raw) raw.addEventListener("toggle", () => { if (raw.open && !$("#raw-text").dataset.loaded) { raw.open = false; showRaw(); } });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === "Escape") { closeAll(); if (document.activeElement) document.activeElement.blur(); return; }
    if (typing(event)) return;
    let handled = false;
    if (pending) handled = replyKey(key);
    else if (key === "?") { const help = $("#help"); closeAll(); toggle(help, true); handled = true; }
    else if (key === "u") handled = submit("#undo");
    else if (page === "queue") handled = queueKey(key);
    else if (page === "reply") handled = replyKey(key);
    if (handled) event.preventDefault();
  });
})();
