// Progressive enhancement for the officer web app; every page works without it.
// - Search as you type: the search page's results and facets are fetched as an HTML
//   fragment from the same URL (with partial=1) and swapped in; the address bar follows.
// - Controls marked data-autosubmit submit their form when changed.
// - The clause editor (form[data-preview]) refreshes its anonymisation preview while the
//   publisher types: the form is posted with action=preview&partial=1 (nothing is saved)
//   and the returned section replaces #anon-preview.
// - CPV finders ([data-cpv-finder]) look codes up by digits or words (the CpvSuggestions
//   operation, POST /graphql) and add the chosen one to their field.
"use strict";
(function () {
  function autosubmit(event) {
    var el = event.target;
    if (!el.hasAttribute || !el.hasAttribute("data-autosubmit")) return;
    var form = el.form;
    if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
  }
  document.addEventListener("change", autosubmit);

  Array.prototype.forEach.call(document.querySelectorAll("[data-cpv-finder]"), function (finder) {
    var target = document.getElementById(finder.getAttribute("data-target"));
    var input = finder.querySelector("input");
    var list = finder.querySelector("ul");
    if (!target || !input || !list || !window.fetch) return;
    finder.hidden = false;
    var timer = null;
    function choose(code) {
      var codes = target.value.split(/[\s,;]+/).filter(Boolean);
      if (codes.indexOf(code) < 0) codes.push(code);
      target.value = codes.join(", ");
      target.dispatchEvent(new Event("input", { bubbles: true }));
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var prefix = input.value.trim();
        if (prefix.length < 2) { list.textContent = ""; return; }
        fetch("/graphql", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({
            query: finder.getAttribute("data-query"),
            operationName: "CpvSuggestions",
            variables: { prefix: prefix, language: finder.getAttribute("data-language") }
          })
        })
          .then(function (response) { return response.json(); })
          .then(function (body) {
            list.textContent = "";
            ((body.data || {}).cpvCodes || []).forEach(function (found) {
              var item = document.createElement("li");
              var button = document.createElement("button");
              button.type = "button";
              button.className = "link";
              button.setAttribute("data-code", found.code);
              button.textContent = found.code + " " + found.name;
              button.addEventListener("click", function () { choose(found.code); });
              item.appendChild(button);
              list.appendChild(item);
            });
          })
          .catch(function () { /* offline: the codes can still be typed */ });
      }, 200);
    });
  });

  var editor = document.querySelector("form[data-preview]");
  if (editor && window.fetch && window.FormData) {
    var previewTimer = null;
    var previewController = null;
    editor.addEventListener("input", function (event) {
      if (event.target.tagName !== "TEXTAREA" && event.target.type !== "text") return;
      clearTimeout(previewTimer);
      previewTimer = setTimeout(function () {
        var data = new URLSearchParams(new FormData(editor));
        data.set("action", "preview");
        data.set("partial", "1");
        if (previewController) previewController.abort();
        previewController = new AbortController();
        fetch(editor.getAttribute("action"), {
          method: "POST",
          body: data,
          signal: previewController.signal,
          credentials: "same-origin",
          headers: { Accept: "text/html" }
        })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) {
            var old = document.getElementById("anon-preview");
            if (!html || !old) return;
            var template = document.createElement("template");
            template.innerHTML = html;
            var fresh = template.content.getElementById("anon-preview");
            // The live region stays in place so screen readers announce the change.
            if (fresh) old.innerHTML = fresh.innerHTML;
          })
          .catch(function () { /* superseded or offline: the check button still works */ });
      }, 500);
    });
  }

  var input = document.querySelector("input[data-live]");
  if (!input || !window.fetch || !window.URLSearchParams) return;
  var form = input.form;
  var timer = null;
  var controller = null;

  function query() {
    var params = new URLSearchParams(new FormData(form));
    params.delete("after");
    return params;
  }

  function swap(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    ["filters", "results"].forEach(function (id) {
      var fresh = template.content.getElementById(id);
      var old = document.getElementById(id);
      if (fresh && old) old.replaceWith(fresh);
    });
  }

  function run() {
    var params = query();
    var url = form.getAttribute("action") + "?" + params.toString();
    params.set("partial", "1");
    if (controller) controller.abort();
    controller = new AbortController();
    var results = document.getElementById("results");
    if (results) results.setAttribute("aria-busy", "true");
    fetch(form.getAttribute("action") + "?" + params.toString(), {
      signal: controller.signal,
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        swap(html);
        history.replaceState(null, "", url);
      })
      .catch(function () { /* a newer keystroke took over, or offline: the form still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
})();
