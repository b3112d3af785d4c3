// The admin's member search (select2, Django's autocomplete_fields) draws its own combobox and hides the
// <select>, so the field's <label> no longer names it: give the combobox and its text box the label's name
// (WCAG 4.1.2; axe's aria-input-field-name). Runs once the page's own scripts have drawn the widgets, and
// again for each inline row added.
(function () {
  "use strict";

  // Returns whether any widget was not drawn yet (jQuery runs the admin's ready code after this page's load).
  function name(root) {
    let waiting = false;
    root.querySelectorAll("select.admin-autocomplete:not([name*=__prefix__])").forEach(function (select) {
      const label = select.id && document.querySelector('label[for="' + select.id + '"]');
      const widget = select.nextElementSibling;
      if (!label) {
        return;
      }
      if (!widget || !widget.classList.contains("select2")) {
        waiting = true;
        return;
      }
      if (!label.id) {
        label.id = select.id + "-label";
      }
      const shown = widget.querySelector(".select2-selection__rendered");
      const box = widget.querySelector('.select2-selection[role="combobox"]');
      if (shown) {
        shown.setAttribute("aria-labelledby", label.id);
      }
      if (box) {
        box.setAttribute("aria-labelledby", label.id + (shown && shown.id ? " " + shown.id : ""));
      }
    });
    return waiting;
  }

  function nameWhenDrawn(root, tries, delay) {
    window.setTimeout(function () {
      if (name(root) && tries > 0) {
        nameWhenDrawn(root, tries - 1, 50);
      }
    }, delay);
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameWhenDrawn(document, 40, 0); // queued after jQuery's ready code, which draws them
  });
  document.addEventListener("formset:added", function (event) {
    nameWhenDrawn(event.target, 40, 0);
  });
})();
