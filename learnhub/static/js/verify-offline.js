// Offline check of a certificate's QR code: the token "LH1.<payload>.<signature>" (see
// learnhub/certificates/signing.py) is verified here, in the browser, with WebCrypto Ed25519 and
// the public key embedded in the page. Nothing is sent to the server.
// On /verify/offline it checks what is pasted (or the URL's #fragment, at load); on
// /verify/<code> it checks the fragment the QR code's URL carries, if any, against that code.
(function () {
  "use strict";
  var root = document.getElementById("verifier");
  if (!root) { return; }
  var PREFIX = "LH1";
  var mode = root.getAttribute("data-mode");

  function unb64(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) { throw new Error("not base64url"); }
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function tokenFrom(text) {
    text = (text || "").trim();
    var hash = text.lastIndexOf("#");
    if (hash >= 0) { text = text.slice(hash + 1); }
    try { text = decodeURIComponent(text); } catch (e) { /* keep as is */ }
    return text.replace(/\s+/g, "");
  }

  // Resolves to {state: "valid"|"invalid"|"malformed"|"unsupported", claims: {...}}.
  function check(text) {
    var parts = tokenFrom(text).split(".");
    if (parts.length !== 3 || parts[0] !== PREFIX) {
      return Promise.resolve({ state: "malformed", claims: null });
    }
    var claims, signature;
    try {
      signature = unb64(parts[2]);
      claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(unb64(parts[1])));
    } catch (e) {
      return Promise.resolve({ state: "malformed", claims: null });
    }
    if (!claims || typeof claims !== "object" || Array.isArray(claims)) {
      return Promise.resolve({ state: "malformed", claims: null });
    }
    if (!window.crypto || !window.crypto.subtle) {
      return Promise.resolve({ state: "unsupported", claims: null });
    }
    var keyBytes;
    try { keyBytes = unb64(root.getAttribute("data-key") || ""); } catch (e) { keyBytes = null; }
    if (!keyBytes || keyBytes.length !== 32) {
      return Promise.resolve({ state: "unsupported", claims: null });
    }
    var subtle = window.crypto.subtle;
    return subtle.importKey("raw", keyBytes, { name: "Ed25519" }, false, ["verify"]).then(
      function (key) {
        var signed = new TextEncoder().encode(PREFIX + "." + parts[1]);
        return subtle.verify("Ed25519", key, signature, signed).then(function (ok) {
          return { state: ok ? "valid" : "invalid", claims: ok ? claims : null };
        }, function () {
          return { state: "invalid", claims: null };
        });
      },
      function () {
        return { state: "unsupported", claims: null };
      }
    );
  }

  function show(states) {
    var items = root.querySelectorAll("[data-show]");
    for (var i = 0; i < items.length; i++) {
      items[i].hidden = states.indexOf(items[i].getAttribute("data-show")) < 0;
    }
  }

  function isoToVn(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : String(text || "");
  }

  function todayIso() {
    // The province's calendar day (UTC+07:00), whatever the device's time zone.
    return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
  }

  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function fill(claims) {
    var values = {
      k: root.getAttribute(claims.k === "confirmation" ? "data-kind-confirmation" : "data-kind-certificate"),
      n: text(claims.n),
      b: claims.b ? isoToVn(claims.b) : "—",
      t: text(claims.t),
      r: text(claims.r),
      s: text(claims.s),
      d: isoToVn(claims.d),
      v: claims.v ? isoToVn(claims.v) : root.getAttribute("data-no-expiry")
    };
    var cells = root.querySelectorAll("[data-claim]");
    for (var i = 0; i < cells.length; i++) {
      cells[i].textContent = values[cells[i].getAttribute("data-claim")] || "";
    }
    var link = root.querySelector("[data-online-link]");
    var code = text(claims.c);
    if (link && /^[A-Z2-7]{26}$/.test(code)) {
      link.setAttribute("href", root.getAttribute("data-verify-base") + "/" + code);
      return true;
    }
    return false;
  }

  function offline(input) {
    show([]);
    root.removeAttribute("data-result");
    check(input).then(function (result) {
      var states = [result.state];
      if (result.state === "valid") {
        states.push("claims");
        if (fill(result.claims)) { states.push("online"); }
        if (result.claims.v && String(result.claims.v) < todayIso()) { states.push("expired"); }
      }
      show(states);
      root.setAttribute("data-result", result.state);
    });
  }

  // Only a token in the fragment counts: "#main" (the skip link) and the like are left alone.
  function hasToken() {
    return location.hash.indexOf("#" + PREFIX + ".") === 0;
  }

  if (mode === "offline") {
    var form = document.getElementById("verify-offline-form");
    var area = document.getElementById("verify-token");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      offline(area.value);
    });
    var fromHash = function () {
      if (hasToken()) {
        area.value = location.hash.slice(1);
        offline(area.value);
      }
    };
    window.addEventListener("hashchange", fromHash);
    fromHash();
  } else if (mode === "page" && hasToken()) {
    check(location.hash).then(function (result) {
      var state = result.state === "malformed" ? "invalid" : result.state;
      if (state === "valid" && text(result.claims.c) !== root.getAttribute("data-code")) {
        state = "mismatch";
      }
      show([state]);
      root.hidden = false;
      root.setAttribute("data-result", state);
    });
  }
})();
