"""The dashboard's stylesheet and script, served as /static/app.css and /static/app.js (no CDN, no fonts:
nothing is fetched from the internet). Kept as strings so the wheel needs no extra package data.

The script polls the page's fragment every few seconds and swaps `<main>`'s content when it changed: the
server renders (and escapes) every byte, the script never builds markup from data.
"""

CSS = """
:root { color-scheme: light; --fg: #1b1f24; --muted: #4a5560; --bg: #ffffff; --panel: #f3f5f7;
  --line: #c9d1d9; --ok: #116329; --warn: #7d4e00; --bad: #a40e26; --accent: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, summary:focus-visible { outline: 3px solid #bf3989;
  outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5em; }
.skip:focus { left: .5em; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1em; padding: .6em 1.2em;
  background: #0d1f33; color: #ffffff; }
header h1 { font-size: 1.15em; margin: 0; }
header p { margin: 0; color: #d0d7de; font-size: .9em; }
nav ul { display: flex; gap: .3em; list-style: none; margin: 0; padding: .4em 1.2em;
  background: var(--panel); border-bottom: 1px solid var(--line); }
nav a { display: inline-block; padding: .3em .7em; border-radius: 4px; text-decoration: none; }
nav a[aria-current="page"] { background: var(--accent); color: #ffffff; }
main { padding: 1em 1.2em 3em; max-width: 1200px; }
h2 { font-size: 1.25em; margin: 1.2em 0 .4em; }
h3 { font-size: 1.05em; margin: 1em 0 .3em; }
table { border-collapse: collapse; margin: .3em 0 1em; }
caption { text-align: left; font-weight: 600; padding: .2em 0; }
th, td { border: 1px solid var(--line); padding: .25em .6em; text-align: left; vertical-align: top; }
thead th { background: var(--panel); }
section.pool { border: 1px solid var(--line); border-radius: 6px; padding: .2em 1em 1em; margin: 1em 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; margin: .4em 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
ol.rings { display: flex; flex-wrap: wrap; gap: .4em; list-style: none; padding: 0; align-items: center; }
ol.rings li { border: 1px solid var(--line); border-radius: 6px; padding: .3em .7em; background: var(--panel); }
ol.rings li + li::before { content: "→ "; color: var(--muted); }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); font-weight: 600; }
.muted { color: var(--muted); }
.stale { background: #fff8c5; border: 1px solid #d4a72c; padding: .4em .7em; border-radius: 4px; }
progress { width: 14em; height: 1em; vertical-align: middle; }
svg.chart { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; }
pre { white-space: pre-wrap; background: var(--panel); padding: .4em .6em; margin: .2em 0; max-width: 70em; }
"""

JS = """
(function () {
  "use strict";
  var main = document.getElementById("main");
  var page = document.body.getAttribute("data-page");
  var every = parseInt(document.body.getAttribute("data-refresh") || "3000", 10);
  var last = main.innerHTML;
  function tick() {
    fetch("/fragment/" + page, {cache: "no-store", headers: {"Accept": "text/html"}})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (html !== last) {
          var focused = document.activeElement && document.activeElement.id;
          main.innerHTML = html;
          last = html;
          if (focused) { var el = document.getElementById(focused); if (el) { el.focus(); } }
        }
        document.body.setAttribute("data-updated", String(Date.now()));
      })
      .catch(function () { document.body.setAttribute("data-poll-error", "1"); })
      .then(function () { setTimeout(tick, every); });
  }
  setTimeout(tick, every);
})();
"""
