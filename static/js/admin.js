// The admin's script-made parts, named for assistive technology (WCAG 2.2 AA, checked with axe
// in tests/browser/test_admin_pages.py). The admin works without this; it only adds names.
"use strict";

(function () {
  // select2 (autocomplete fields) draws a search box with no name: name it after the field.
  function nameAutocompletes(root) {
    root.querySelectorAll(".select2-container").forEach(function (container) {
      const select = container.previousElementSibling;
      const label = select && select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
      const name = (label && label.textContent.replace(/:\s*$/, "").trim())
        || (select && select.getAttribute("aria-label")) || "Search";
      container.querySelectorAll(".select2-search__field").forEach(function (box) {
        box.setAttribute("aria-label", name);
      });
      // Its clear-all button sits inside the list of chosen items, where only items belong:
      // place it just before the list (select2 finds it by delegation from the same box).
      container.querySelectorAll("ul.select2-selection__rendered").forEach(function (list) {
        Array.from(list.children).forEach(function (child) {
          if (child.tagName !== "LI") list.parentNode.insertBefore(child, list);
        });
      });
    });
  }

  // A box that scrolls sideways but holds nothing focusable cannot be scrolled by keyboard:
  // make it a named, focusable region.
  function focusableScrollers(root) {
    root.querySelectorAll(".inline-group, .inline-group fieldset.module").forEach(function (box) {
      if (box.scrollWidth <= box.clientWidth || box.hasAttribute("tabindex")) return;
      if (box.querySelector("a[href], button, input, select, textarea, [tabindex]")) return;
      const heading = box.querySelector("h2");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      if (heading) box.setAttribute("aria-label", heading.textContent.trim());
    });
  }

  function improve() {
    nameAutocompletes(document);
    focusableScrollers(document);
  }

  document.addEventListener("DOMContentLoaded", function () {
    improve();
    // select2 redraws its list when a choice is added or removed; rows are added by inlines.
    new MutationObserver(function () { nameAutocompletes(document); })
      .observe(document.body, { childList: true, subtree: true });
    window.addEventListener("resize", function () { focusableScrollers(document); });
  });
})();
