// The live list: when the server says the store changed, fetch the list again and swap it in.
// Our own twenty lines instead of a framework; the page works without them (reload shows the same).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const table = document.getElementById("live");
  if (!table || !window.EventSource) return;
  const body = table.querySelector("tbody");
  const refresh = async () => {
    const answer = await fetch(table.dataset.rows, {credentials: "same-origin", headers: {"Accept": "text/html"}});
    if (answer.ok) {
      body.innerHTML = await answer.text();
      table.dataset.updated = String(Date.now());
    }
  };
  const stream = new EventSource(table.dataset.stream);
  stream.addEventListener("events", refresh);
  stream.addEventListener("open", () => { table.dataset.live = "on"; });
});
