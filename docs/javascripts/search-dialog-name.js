/*
 * Give Material's search dialog an accessible name.
 *
 * Material for MkDocs 9.x marks its search panel role="dialog" without a
 * name, which axe-core reports as a serious violation (aria-dialog-name), and
 * which leaves screen readers announcing an unnamed dialog. The dialog takes
 * the label of its own search field ("Search" in English).
 *
 * document$ is Material's observable of each loaded page: it emits for the
 * first page and for each page that instant navigation brings in.
 */
(function () {
  "use strict";

  function nameSearchDialogs() {
    var dialogs = document.querySelectorAll(
      '.md-search[role="dialog"]:not([aria-label]):not([aria-labelledby])'
    );
    dialogs.forEach(function (dialog) {
      var field = dialog.querySelector(".md-search__input");
      var name = field === null ? null : field.getAttribute("aria-label");
      dialog.setAttribute("aria-label", name || "Search");
    });
  }

  if (typeof window.document$ !== "undefined") {
    window.document$.subscribe(nameSearchDialogs);
  } else {
    nameSearchDialogs();
  }
})();
