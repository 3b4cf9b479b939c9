/* The admin's forms: a date typed as one field is read back to the editor before saving
   ("Read as: March 2011, month precision"), by the same parser the server saves with. */
(function () {
  "use strict";

  function reader(input) {
    var output = document.createElement("output");
    output.className = "date-reading";
    output.setAttribute("for", input.id);
    output.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", output);
    var timer = null;
    var asked = 0;

    function show() {
      var text = input.value.trim();
      var mine = ++asked;
      if (!text) {
        output.textContent = "Read as: not known";
        output.classList.remove("date-problem");
        return;
      }
      fetch(input.dataset.parseUrl + "?" + new URLSearchParams({ text: text }), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.json();
        })
        .then(function (answer) {
          if (mine !== asked) return;
          if (answer.error) {
            output.textContent = "Not understood: " + answer.error;
            output.classList.add("date-problem");
          } else {
            output.textContent = "Read as: " + answer.shown + " (" + answer.precision + " precision)";
            output.classList.remove("date-problem");
          }
        })
        .catch(function () {
          if (mine === asked) output.textContent = "The date will be checked when you save.";
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(show, 250);
    });
    show();
  }

  function start() {
    document.querySelectorAll("input.fuzzy-date[data-parse-url]").forEach(reader);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
