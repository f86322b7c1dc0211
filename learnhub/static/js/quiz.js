// Quiz autosave: every answer is sent as it is given; unsent answers wait (also across a
// reload) until the connection is back. The page works without this script.
(function () {
  "use strict";
  var root = document.getElementById("attempt");
  if (!root || !window.fetch) { return; }
  var key = "learnhub-pending-" + root.getAttribute("data-attempt");
  var pending = {};
  try { pending = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { pending = {}; }
  var token = document.querySelector("input[name=csrf_token]").value;
  var help = document.getElementById("autosave-help");
  if (help) { help.textContent = help.getAttribute("data-js"); }
  // The page's own words (templates/quizzes/attempt.html), in its language.
  function say(name) { return root.getAttribute("data-" + name) || ""; }
  // A time as the page shows its others (the deadline): in the province's time zone, whatever
  // the device's clock is set to.
  function clock(at) {
    var lang = document.documentElement.lang || "vi";
    try { return at.toLocaleTimeString(lang, { timeZone: say("zone") }); }
    catch (e) { return at.toLocaleTimeString(lang); }  // a zone the browser does not know
  }

  function remember() {
    try { localStorage.setItem(key, JSON.stringify(pending)); } catch (e) { /* storage full */ }
  }

  function answerOf(form) {
    var kind = form.getAttribute("data-kind");
    var data = new FormData(form);
    if (kind === "single") { return { choice: data.get("choice") || "" }; }
    if (kind === "multi") { return { choices: data.getAll("choices") }; }
    if (kind === "truefalse") { return { value: data.get("value") || "" }; }
    if (kind === "matching") {
      var pairs = {};
      data.forEach(function (value, name) {
        if (name.indexOf("pair-") === 0 && value !== "") { pairs[name.slice(5)] = value; }
      });
      return { pairs: pairs };
    }
    return { text: data.get("text") || "" };
  }

  function status(form, text, state) {
    var el = form.querySelector(".status");
    el.textContent = text;
    el.setAttribute("data-state", state);
  }

  // A save the server could not acknowledge (network gone, server restarting, database
  // unavailable: 5xx or 429) stays pending and is sent again, 2 s later, then 4, 8… up to 60 s.
  var delays = {};
  function later(position) {
    var delay = Math.min((delays[position] || 1000) * 2, 60000);
    delays[position] = delay;
    setTimeout(function () { send(position); }, delay);
  }

  function send(position) {
    var form = document.getElementById("q" + position);
    var body = pending[position];
    if (!form || body === undefined) { return; }
    status(form, say("saving"), "saving");
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    }).then(function (result) {
      if (result.ok && result.data.saved) {
        delete delays[position];
        if (pending[position] === body) { delete pending[position]; remember(); }
        if (result.data.csrf) { token = result.data.csrf; }
        var at = new Date(result.data.at + "Z");
        status(form, say("saved").replace("{t}", clock(at)), "saved");
      } else if (result.status === 409) {
        delete pending[position]; remember();
        status(form, result.data.message || say("finished"), "finished");
      } else if (result.status >= 500 || result.status === 429) {
        status(form, say("busy"), "offline");
        later(position);
      } else {
        status(form, say("failed"), "error");
      }
    }).catch(function () {
      status(form, say("offline"), "offline");
      later(position);
    });
  }

  function changed(event) {
    var form = event.target.form;
    if (!form || !form.classList.contains("question")) { return; }
    var position = form.getAttribute("data-position");
    pending[position] = answerOf(form);
    remember();
    send(position);
  }

  var timers = {};
  root.addEventListener("change", changed);
  root.addEventListener("input", function (event) {
    if (event.target.tagName !== "TEXTAREA" && event.target.type !== "text") { return; }
    var position = event.target.form.getAttribute("data-position");
    clearTimeout(timers[position]);
    timers[position] = setTimeout(function () { changed(event); }, 800);
  });
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList.contains("question")) {
      event.preventDefault();
      var position = form.getAttribute("data-position");
      pending[position] = answerOf(form);
      remember();
      send(position);
    }
  });
  window.addEventListener("online", function () { Object.keys(pending).forEach(send); });
  Object.keys(pending).forEach(function (position) {
    var form = document.getElementById("q" + position);
    if (form) { status(form, say("resending"), "offline"); send(position); }
  });
}());
