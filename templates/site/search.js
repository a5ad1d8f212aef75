// Optional search over search.json (titles, authors, ids); the site reads fully without it.
(function () {
  "use strict";
  var box = document.getElementById("search");
  var input = document.getElementById("q");
  var list = document.getElementById("results");
  if (!box || !input || !list || !window.fetch) { return; }
  box.hidden = false;
  var index = null;
  function load() {
    if (index) { return Promise.resolve(index); }
    return fetch("search.json").then(function (r) { return r.json(); }).then(function (d) { index = d; return d; });
  }
  function show(query) {
    var q = query.trim().toLowerCase();
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (q.length < 2) { return; }
    load().then(function (items) {
      var shown = 0;
      for (var i = 0; i < items.length && shown < 30; i++) {
        var it = items[i];
        if ((it.t + " " + it.a + " " + it.id).toLowerCase().indexOf(q) === -1) { continue; }
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = it.u;
        a.textContent = it.t;
        li.appendChild(a);
        li.appendChild(document.createTextNode(" (" + it.d + ", " + it.a + ")"));
        list.appendChild(li);
        shown++;
      }
      if (shown === 0) {  // an empty result says so, naming what was looked for
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = "No papers match \u201c" + query.trim() + "\u201d.";
        list.appendChild(none);
      }
    });
  }
  input.addEventListener("input", function () { show(input.value); });
}());
