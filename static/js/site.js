// Site behaviour on top of htmx. No inline scripts anywhere: a strict Content-Security-Policy
// is planned, so everything the pages need lives in this file.

function announce(text) {
  const live = document.getElementById("live");
  if (!live || !text) return;
  // Clearing first makes screen readers announce a message even when it repeats.
  live.textContent = "";
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}

// A search refused for its length answers 400 with the reason: show it in place of the
// results rather than leaving the last ones on screen.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  const searching = target && (target.id === "results" || target.id === "site-results");
  if (searching && event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
  // Results that arrive after the reader left the header's box would open the list again.
  const form = document.querySelector(".site-search");
  if (target && target.id === "site-results" && !form?.contains(document.activeElement)) {
    event.detail.shouldSwap = false;
  }
});

// The header's list of first results closes on Escape (keeping what was typed), when the
// box is emptied, and when focus or a click goes elsewhere: open, it would cover what the
// reader moves on to.
function closeQuickResults() {
  document.getElementById("site-results")?.replaceChildren();
}
document.addEventListener("keydown", (event) => {
  const list = document.getElementById("site-results");
  if (event.key === "Escape" && list && list.childElementCount) {
    event.preventDefault();
    closeQuickResults();
    document.getElementById("site-q")?.focus();
  }
});
document.addEventListener("focusout", (event) => {
  // Only when focus lands outside: Safari gives a clicked link no focus (relatedTarget is
  // null), and closing then would take the result away before the click reaches it.
  const form = event.target.closest && event.target.closest(".site-search");
  const to = event.relatedTarget;
  if (form && to && !form.contains(to)) closeQuickResults();
});
document.addEventListener("pointerdown", (event) => {
  if (!(event.target.closest && event.target.closest(".site-search"))) closeQuickResults();
});
document.addEventListener("htmx:beforeRequest", (event) => {
  const box = event.detail.elt;
  if (box && box.id === "site-q" && !box.value.trim()) {
    event.preventDefault();
    document.getElementById("site-results")?.replaceChildren();
  }
});

// htmx otherwise drops 4xx/5xx responses silently: say so, then open the full page, which
// shows the site's own error page.
document.addEventListener("htmx:responseError", (event) => {
  announce(`Could not load that (error ${event.detail.xhr.status}). Opening the full page instead.`);
  const path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
  if (path) window.location.assign(path);
});
document.addEventListener("htmx:sendError", () => {
  announce("The server could not be reached. Check your connection and try again.");
});

// After a swap, keyboard and screen-reader users land where the new content starts: focus
// moves to its heading (tabindex="-1", marked data-focus-on-swap) and the live region says
// what changed. Content that only updates beside the reader (search results while typing)
// carries data-announce without data-focus-on-swap, so focus stays in the search box.
// Scroll only when the element is not already in view: the panel is sticky beside the
// ladder on a wide screen, and scrolling it "into view" there moved the page at every step.
function bringIntoView(element) {
  const box = element.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) {
    element.scrollIntoView({ block: "start", behavior: "auto" });
  }
}

function settle(root) {
  if (!root || root === document.body || !root.querySelector) return;
  // A dispute's ladder and panel, swapped together, name the heading to land on.
  const named = root.dataset.focusTarget && document.getElementById(root.dataset.focusTarget);
  const heading =
    named ||
    (root.matches("[data-focus-on-swap]") ? root : root.querySelector("[data-focus-on-swap]"));
  if (heading) {
    heading.focus({ preventScroll: true });
    bringIntoView(heading);
    announce(heading.dataset.announce || heading.textContent.trim());
    return;
  }
  const message = root.matches("[data-announce]") ? root : root.querySelector("[data-announce]");
  if (message) announce(message.dataset.announce);
}

// htmx says afterSettle once for each element it settled, out-of-band ones included (the
// page's addresses after a walk): focus and announce once a response.
const settled = new WeakSet();
document.addEventListener("htmx:afterSettle", (event) => {
  const xhr = event.detail.xhr;
  if (xhr) {
    if (settled.has(xhr)) return;
    settled.add(xhr);
  }
  if (event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
    const target = event.detail.target;
    // An outerHTML swap replaces the target: look the new element up by its id.
    const fresh = target && target.id ? document.getElementById(target.id) : target;
    settle(fresh && fresh.isConnected ? fresh : event.detail.elt);
  }
});

// Back and forward restore the page from htmx's history; point focus at the restored step.
// The copy htmx kept has the search boxes as the page was loaded, not as typed since: they
// show the query of the address restored.
document.addEventListener("htmx:historyRestore", () => {
  const query = new URLSearchParams(window.location.search).get("q") || "";
  for (const box of document.querySelectorAll("#q, #site-q")) box.value = query;
  // The head is not in htmx's copy: its canonical and JSON addresses come from the body's.
  const addresses = document.getElementById("page-addresses")?.dataset || {};
  for (const [id, value] of [["canonical", addresses.canonical], ["json-twin", addresses.json]]) {
    if (value) document.getElementById(id)?.setAttribute("href", value);
  }
  const heading = document.querySelector("#step [data-focus-on-swap]");
  if (heading) {
    heading.focus({ preventScroll: true });
    // htmx puts the scroll back where the reader left it on its next tick; after that, the
    // heading is brought into view if focus would otherwise be out of sight
    window.setTimeout(() => bringIntoView(heading), 0);
    announce(heading.dataset.announce || heading.textContent.trim());
  }
});

// Keys for walking: left/right or k/j for the previous/next step (documented beside the
// panel). They follow the panel's own links, so htmx walks in place as a click would. They
// act only while the reader is on the step or the ladder, never from a form, a list of
// results or another control; the arrows also from nowhere in particular (after a page
// loads). Letters act only where they apply, as WCAG 2.1.4 asks of single-letter keys.
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
  const where = event.target;
  const inWalk =
    where.closest &&
    where.closest("#step, #explorer") &&
    !where.closest("input, textarea, select, summary, [contenteditable]");
  const arrow = event.key === "ArrowLeft" || event.key === "ArrowRight";
  if (!(inWalk || (arrow && (where === document.body || where.id === "main")))) return;
  const rel = { ArrowLeft: "prev", k: "prev", ArrowRight: "next", j: "next" }[event.key];
  const link = rel && document.querySelector(`#step a[rel=${rel}]`);
  if (link) {
    event.preventDefault();
    link.click();
  }
});

// On the ladder, hovering or focusing a link's line marks the two steps it joins (the line's
// own ends grow through CSS alone).
function markLinkEnds(event, on) {
  const link = event.target.closest && event.target.closest(".ladder-link");
  if (!link) return;
  for (const id of [link.dataset.cause, link.dataset.response]) {
    document.getElementById(`ladder-step-${id}`)?.classList.toggle("is-linked", on);
  }
}
for (const [type, on] of [
  ["mouseover", true],
  ["mouseout", false],
  ["focusin", true],
  ["focusout", false],
]) {
  document.addEventListener(type, (event) => markLinkEnds(event, on));
}
