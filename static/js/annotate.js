/* A source's annotate page. Without this file each sentence is a checkbox that submits the
   whole sentence as a quote. With it, the picked quotes are listed beside the text, each in
   a box the editor can trim with the keyboard, and a passage selected with the mouse inside
   one sentence is picked as it stands. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("annotate");
    var list = document.getElementById("picked");
    var none = document.getElementById("picked-none");
    if (!form || !list) return;
    var boxes = Array.prototype.slice.call(form.querySelectorAll(".pick input[type=checkbox]"));
    var serial = 0;

    function refresh() {
      none.hidden = list.children.length > 0;
    }

    function removable(item, box) {
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button remove-quote";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove quote " + ++serial);
      remove.addEventListener("click", function () {
        item.remove();
        if (box) box.checked = false;
        refresh();
      });
      item.append(remove);
    }

    // Passages sent back by the server (after a quote it could not find) can go too.
    Array.prototype.forEach.call(list.children, function (item) {
      removable(item, null);
    });

    function add(text, start, box) {
      var item = document.createElement("li");
      item.dataset.start = String(start);
      var id = "picked-quote-" + ++serial;
      var label = document.createElement("label");
      label.setAttribute("for", id);
      label.className = "visually-hidden";
      label.textContent = "Quote " + serial;
      var area = document.createElement("textarea");
      area.id = id;
      area.name = "_quote";
      area.rows = Math.min(6, Math.max(2, Math.ceil(text.length / 48)));
      area.value = text;
      item.append(label, area);
      removable(item, box);
      if (box) item.dataset.box = box.id;
      var after = Array.prototype.find.call(list.children, function (other) {
        return Number(other.dataset.start) > start;
      });
      list.insertBefore(item, after || null);
      refresh();
      return item;
    }

    boxes.forEach(function (box, i) {
      box.id = box.id || "sentence-box-" + (i + 1);
      box.removeAttribute("name"); // the list below submits the quotes now
      var start = Number(box.closest(".pick").dataset.start);
      if (box.checked) add(box.value, start, box);
      box.addEventListener("change", function () {
        var row = list.querySelector('li[data-box="' + box.id + '"]');
        if (box.checked && !row) add(box.value, start, box);
        if (!box.checked && row) {
          row.remove();
          refresh();
        }
      });
    });

    // A passage selected inside one sentence is picked as it stands, instead of ticking it.
    form.querySelectorAll(".pick").forEach(function (pick) {
      pick.addEventListener("click", function (event) {
        var selection = window.getSelection();
        var text = selection ? selection.toString() : "";
        if (!text.trim() || !pick.contains(selection.anchorNode) || !pick.contains(selection.focusNode)) return;
        event.preventDefault();
        var whole = pick.querySelector(".pick-text").textContent;
        var offset = whole.indexOf(text);
        if (offset < 0) return; // the selection ran over the number or a note: not a passage
        add(text, Number(pick.dataset.start) + offset, null);
        selection.removeAllRanges();
      });
    });
    refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
