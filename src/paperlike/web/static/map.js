// paperlike serve: draws the map of /api/map (the figure `paperlike map` draws), places its theme
// labels off the dots (labels.js) and opens the paper page of a clicked dot. Paper text only ever reaches the page through plotly, whose
// hover labels get titles already HTML-escaped by the server.
(function () {
  "use strict";
  const div = document.getElementById("map");
  const status = document.getElementById("map-status");
  fetch(div.dataset.src, { credentials: "same-origin" })
    .then((r) => r.json().then((body) => (r.ok ? body : Promise.reject(new Error(body.error)))))
    .then((data) => {
      const fig = data.figure;
      return Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false }).then(() => {
        status.textContent = data.papers + " papers in " + data.themes + " themes (" + data.method + ").";
        // Labels placed again for this plot's real size and measured boxes: off the dots, off
        // each other (labels.js); each placement redraws once, the next finds all in place.
        let placing = false;
        const place = () => {
          if (placing) return;
          const update = paperlikeLabelUpdate(div);
          if (update && Object.keys(update).length) {
            placing = true;
            Plotly.relayout(div, update).then(() => { placing = false; });
          }
        };
        div.on("plotly_afterplot", () => window.requestAnimationFrame(place));
        place();
        div.dataset.ready = "1";
        div.on("plotly_click", (ev) => {
          const id = ev.points[0].customdata[0];
          window.location.href = "/paper?id=" + encodeURIComponent(id);
        });
      });
    })
    .catch((err) => {
      status.textContent = "The map could not be drawn: " + err.message;
    });
})();
