(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) { return; }
  var paras = Array.prototype.slice.call(document.querySelectorAll(".para[data-t]"));
  var starts = paras.map(function (p) { return parseFloat(p.getAttribute("data-t")); });
  var current = -1;
  function seek(t) {
    if (!isFinite(t) || t < 0) { return; }
    var go = function () {
      audio.currentTime = t;
      var played = audio.play();
      if (played && played.catch) { played.catch(function () {}); }
    };
    if (audio.readyState >= 1) { go(); } else {
      audio.addEventListener("loadedmetadata", go, { once: true });
      audio.preload = "auto";
      audio.load();
    }
  }
  function highlight() {
    var t = audio.currentTime + 0.05, lo = 0, hi = starts.length - 1, k = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { k = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (k === current) { return; }
    if (current >= 0) { paras[current].classList.remove("now"); paras[current].removeAttribute("aria-current"); }
    if (k >= 0) { paras[k].classList.add("now"); paras[k].setAttribute("aria-current", "time"); }
    current = k;
  }
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest(".seek[data-t]") : null;
    if (!el) { return; }
    var href = el.getAttribute("href") || "";
    if (href.charAt(0) !== "#") { e.preventDefault(); }
    seek(parseFloat(el.getAttribute("data-t")));
  });
  audio.addEventListener("timeupdate", highlight);
  audio.addEventListener("seeked", highlight);
}());
