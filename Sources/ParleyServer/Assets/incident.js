// The incident page's timeline, fetched again every few seconds while the incident is open.
(function () {
  "use strict";
  const box = document.getElementById("timeline");
  const url = box && box.dataset.live;
  if (!url) return;
  async function refresh() {
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (response.ok) box.innerHTML = await response.text();
    } catch (e) {
      // The server may be restarting; try again at the next tick.
    }
  }
  setInterval(refresh, 2000);
})();
