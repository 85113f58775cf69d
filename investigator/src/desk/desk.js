// Meldpunt, the investigator's desk: small conveniences. Every page works without this.
(function () {
  "use strict";
  // A message after an action is read out and gets the focus.
  var flash = document.getElementById("flash");
  if (flash) { flash.focus({ preventScroll: window.location.hash !== "" }); }

  // Templates fill the composer in place (without JavaScript, the page reloads with them).
  var text = document.getElementById("reply-text");
  var status = document.getElementById("reply-status");
  document.querySelectorAll("button[data-template]").forEach(function (b) {
    b.addEventListener("click", function (e) {
      var t = document.getElementById("template-" + b.getAttribute("data-template"));
      if (!t || !text) { return; }
      e.preventDefault();
      var words = t.content ? t.content.textContent : t.textContent;
      text.value = text.value.trim() === "" ? words : text.value.replace(/\s+$/, "") + "\n\n" + words;
      if (status && b.getAttribute("data-status")) { status.value = b.getAttribute("data-status"); }
      text.focus();
    });
  });

  // The copy for colleagues: a print button.
  var print = document.getElementById("print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }

  // After the idle time the desk wipes the key; take the decrypted page off the screen too.
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-idle") || "0", 10);
  if (idle > 0 && body.getAttribute("data-unlocked") === "true") {
    var last = Date.now();
    ["keydown", "mousedown", "mousemove", "scroll", "touchstart"].forEach(function (ev) {
      window.addEventListener(ev, function () { last = Date.now(); }, { passive: true });
    });
    window.setInterval(function () {
      if (Date.now() - last > idle * 1000) { window.location.replace("/"); }
    }, 5000);
  }
})();
