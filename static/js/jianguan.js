/* Jianguan UI behaviour. Small and declarative: everything is driven by data attributes, so templates need no inline
   scripts (CSP script-src 'self'). Every page works without it; it only adds confirmations and conveniences. */
(function () {
  "use strict";

  // <form data-confirm="…">: ask before submitting (e.g. revoke a token, reset a password).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) {
      return;
    }
    // <button data-confirm="…"> outside a confirming form.
    var button = target.closest("button[data-confirm], a[data-confirm]");
    if (button && !button.form?.hasAttribute("data-confirm")) {
      if (!window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
    }
    // <button data-dismiss>: remove the enclosing flash message.
    var dismiss = target.closest("[data-dismiss]");
    if (dismiss) {
      var item = dismiss.closest("li, .dismissible");
      if (item) {
        item.remove();
      }
      return;
    }
    // <button data-copy="#id">: copy a secret shown once to the clipboard.
    var copy = target.closest("[data-copy]");
    if (copy && navigator.clipboard) {
      var source = document.querySelector(copy.getAttribute("data-copy"));
      if (source) {
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          copy.textContent = copy.getAttribute("data-copied") || "✓";
        });
      }
    }
  });

  // <select data-autosubmit>: submit the enclosing form on change (a plain submit button remains for no-JS use).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  // Show elements that only make sense with JavaScript (e.g. copy buttons).
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-js-only]").forEach(function (el) {
      el.hidden = false;
    });
  });
})();
