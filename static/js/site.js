// Site behaviour on top of htmx: tell readers when a request fails, since htmx
// otherwise drops 4xx/5xx responses silently.
document.addEventListener("htmx:responseError", (event) => {
  const live = document.getElementById("live");
  if (live) {
    live.textContent = `Could not load that (error ${event.detail.xhr.status}). Opening the full page instead.`;
  }
  const path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
  if (path) window.location.assign(path);
});
document.addEventListener("htmx:sendError", () => {
  const live = document.getElementById("live");
  if (live) live.textContent = "The server could not be reached. Check your connection and try again.";
});
