// The docs starter's only script, and nothing depends on it: without it the sidebar sits
// below the page on a phone and the table of contents stays open.
// - On a narrow screen the sidebar is a menu the header's button opens and closes.
// - The on-page table of contents starts closed there, open on wide screens.
// - The search box (Pagefind's UI, when [search] pagefind is on) is mounted in the header.
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 48rem)");
  var button = document.querySelector(".menu-button");
  var sidebar = document.getElementById("site-sidebar");
  if (button && sidebar) {
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("menu-open", open);
      if (open) {
        var current = sidebar.querySelector('[aria-current="page"]');
        (current || sidebar.querySelector("a")).focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && document.body.classList.contains("menu-open")) {
        button.click();
        button.focus();
      }
    });
  }
  var toc = document.querySelector("details.toc");
  if (toc && narrow.matches) {
    toc.open = false;
  }
  var search = document.getElementById("site-search");
  if (search && window.PagefindUI) {
    new window.PagefindUI({
      element: "#site-search",
      showSubResults: true,
      showImages: false,
      translations: { placeholder: search.dataset.placeholder },
    });
  }
})();
