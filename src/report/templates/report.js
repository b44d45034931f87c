(function () {
  "use strict";
  // Copy buttons on the blocks a reader pastes into a terminal or a ticket.
  function copyText(pre, button) {
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(pre);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      try { if (document.execCommand("copy")) { done(); } } catch (e) { /* the text stays selected */ }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(pre.textContent).then(done, fallback);
    } else {
      fallback();
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll(".copywrap > pre.copy"), function (pre) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy-btn";
    b.textContent = "Copy";
    b.addEventListener("click", function () { copyText(pre, b); });
    pre.parentNode.appendChild(b);
  });

  var scenarios = function () { return document.querySelectorAll("details.scenario"); };
  var setAll = function (open) {
    Array.prototype.forEach.call(scenarios(), function (d) { d.open = open; });
  };
  var tools = document.getElementById("scenario-tools");
  if (tools) {
    [["Expand all", true], ["Collapse all", false]].forEach(function (t) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = t[0];
      b.addEventListener("click", function () { setAll(t[1]); });
      tools.appendChild(b);
    });
    tools.hidden = false;
  }

  // A printed report shows every scenario; the page goes back as it was after.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(scenarios(), function (d) { return !d.open; });
    setAll(true);
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });

  // Following a link to a scenario opens it.
  var openTarget = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  };
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
