// Source viewer: when the address names a span (#char=s,e or #span-s-e), mark every segment of it.
(function () {
  function spanInHash() {
    var match = /^#(?:char=(\d+),(\d+)|span-(\d+)-(\d+))$/.exec(window.location.hash);
    if (!match) return null;
    return match[1] !== undefined ? match[1] + "," + match[2] : match[3] + "," + match[4];
  }
  function markTarget() {
    var span = spanInHash();
    document.querySelectorAll(".hl.targeted").forEach(function (el) {
      el.classList.remove("targeted");
    });
    if (!span) return;
    document.querySelectorAll(".hl").forEach(function (el) {
      if (el.dataset.spans.split(" ").indexOf(span) !== -1) el.classList.add("targeted");
    });
  }
  window.addEventListener("hashchange", markTarget);
  window.addEventListener("DOMContentLoaded", markTarget);
})();
