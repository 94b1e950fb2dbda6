"""The interactive map of themes: a plotly figure for notebooks, and a standalone HTML page.

One dot per paper at its :mod:`~paperlike.viz.projection` coordinates, one colour per theme, the
theme labels written beside their themes, off the dots and off each other (:mod:`.placement`), the
title, id and theme on hover. The HTML page inlines plotly.js (it opens with no network) and has
three parts that never cover each other at any window width: the plot, a legend listing every
theme (click one to hide or show it), and a side panel that lists the papers most like the dot
clicked, ranked as ``paperlike similar`` ranks them. In the browser, theme labels are placed
again with their measured sizes (``labels.js``), so none covers a dot, overlaps another or
leaves the plot.

Paper text reaches the page only as JSON inside scripts, with ``<``, ``>`` and ``&`` written as
``\\u003c``-style escapes, and is put into the page with ``textContent``; in plotly's hover text
(which renders a little HTML) ids, titles and labels are HTML-escaped. A title containing
``<script>`` shows as text and never runs.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .placement import FIGURE_SIZES, STANDOFF_PX, Spot, label_script, label_spots
from .static import map_svg
from .style import AXIS_RANGE, colour

__all__ = ["map_figure", "map_html", "map_view", "MapView"]


def _plotly():
    try:
        import plotly.graph_objects as go
    except ImportError:
        from ..errors import QueryError

        raise QueryError("the map needs plotly; run: pip install 'paperlike[map]' (or pip install plotly)") from None
    return go


def _safe_json(obj: Any) -> str:
    # Safe inside <script>: no "</script>", no HTML entity surprises.
    return json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_figure(frame, title: str = "Papers by theme", legend: bool = True):
    """A plotly figure of a :meth:`Recommender.map_2d` frame (one trace per theme).

    Args:
        frame: DataFrame with columns id, title, x, y, theme, theme_label.
        title: Figure title.
        legend: Show plotly's legend (the HTML page draws its own).
    """
    go = _plotly()
    fig = go.Figure()
    order = list(dict.fromkeys(frame["theme"]))
    members, labels, sizes = [], [], []
    for i, theme in enumerate(order):
        part = frame[frame["theme"] == theme]
        label = str(part["theme_label"].iloc[0])
        fig.add_trace(
            go.Scatter(
                x=part["x"].tolist(),
                y=part["y"].tolist(),
                mode="markers",
                name=html.escape(f"{theme}: {label}"),
                marker={"size": 9, "color": colour(i), "opacity": 0.85, "line": {"width": 0.5, "color": "white"}},
                # [raw id for the page's scripts, then hover text escaped: plotly renders a little HTML].
                customdata=[
                    [pid, html.escape(str(pid)), html.escape(str(t)), html.escape(label)]
                    for pid, t in zip(part["id"], part["title"])
                ],
                hovertemplate="<b>%{customdata[2]}</b><br>%{customdata[1]}<br>theme: %{customdata[3]}<extra></extra>",
            )
        )
        members.append(list(zip(part["x"].astype(float), part["y"].astype(float))))
        labels.append(label)
        sizes.append(len(part))
    dots = list(zip(frame["x"].astype(float), frame["y"].astype(float)))
    spots = label_spots(members, labels, sizes, dots, FIGURE_SIZES[0], AXIS_RANGE, AXIS_RANGE, also=FIGURE_SIZES[1:])
    for i, spot in enumerate(spots):
        fig.add_annotation(
            **_anchored(spot),
            text=html.escape(labels[i]),
            font={"size": 12, "color": colour(i)},
            bgcolor="rgba(255,255,255,0.75)",
            # The leader line's look, kept on every label: the page's script may turn one on.
            arrowhead=0,
            arrowwidth=1,
            arrowcolor=colour(i),
            standoff=STANDOFF_PX,
        )
    fig.update_layout(
        title=html.escape(title),
        template="plotly_white",
        height=700,
        showlegend=legend,
        legend={"title": {"text": "themes"}, "orientation": "h", "yanchor": "top", "y": -0.01, "x": 0},
        xaxis={"visible": False, "range": list(AXIS_RANGE)},
        yaxis={"visible": False, "range": list(AXIS_RANGE)},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


def _anchored(spot: Spot) -> dict[str, Any]:
    """Plotly's way to put a label at a data point shifted by pixels: ``xshift``/``yshift``
    (y up) without a line; with a leader line, ``ax``/``ay`` (y down) from the dot it points at.
    A label beside its dot is tied by its near edge, so the real text (narrower than the box
    placed) hugs the dot instead of floating off it."""
    x, y = spot.anchor
    dx, dy, half = round(spot.dx, 1), round(spot.dy, 1), spot.box.w / 2
    if spot.leader:
        return {"x": x, "y": y, "showarrow": True, "ax": dx, "ay": dy, "xshift": 0, "yshift": 0, "xanchor": "center"}
    side, shift = ("left", dx - half) if dx > half else ("right", dx + half) if dx < -half else ("center", dx)
    return {"x": x, "y": y, "showarrow": False, "ax": 0, "ay": 0, "xshift": round(shift, 1), "yshift": -dy, "xanchor": side}


class MapView:
    """A map for notebooks: interactive where the front end runs plotly (JupyterLab, VS Code,
    Notebook 7), a static SVG picture everywhere else (GitHub, nbviewer, exported HTML).

    Attributes:
        figure: The plotly figure (:func:`map_figure`).
        svg: The static picture (:func:`~paperlike.viz.static.map_svg`).
    """

    def __init__(self, frame, title: str = "Papers by theme"):
        self.figure = map_figure(frame, title)
        self.svg = map_svg(frame, title)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # Front ends take the richest type they can render: plotly's own where its renderer is
        # installed; text/html (the static SVG, no script) where JavaScript does not run.
        return {
            "application/vnd.plotly.v1+json": self.figure.to_plotly_json(),
            "text/html": f'<div class="paperlike-map-static">{self.svg}</div>',
            "image/svg+xml": self.svg,
            "text/plain": f"<paperlike map: {len(self.figure.data)} themes>",
        }


def map_view(frame, title: str = "Papers by theme") -> MapView:
    """The map of a :meth:`Recommender.map_2d` frame for a notebook (see :class:`MapView`)."""
    return MapView(frame, title)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
 html, body {{ margin: 0; height: 100%; }}
 body {{ font-family: system-ui, sans-serif; display: grid; grid-template-columns: minmax(0, 1fr) minmax(16em, 24em);
        grid-template-rows: auto minmax(0, 1fr) auto; height: 100vh; overflow: hidden; }}
 #bar {{ grid-column: 1; grid-row: 1; padding: 8px 12px; border-bottom: 1px solid #ddd; display: flex; gap: 12px;
        align-items: center; min-width: 0; }}
 #search {{ flex: 0 1 28em; min-width: 8em; padding: 4px 8px; font-size: 14px; }}
 #plot {{ grid-column: 1; grid-row: 2; min-width: 0; min-height: 0; overflow: hidden; position: relative; }}
 #paperlike-map {{ position: absolute; inset: 0; }}
 #legend {{ grid-column: 1; grid-row: 3; max-height: 30vh; overflow-y: auto; border-top: 1px solid #ddd;
           padding: 6px 12px; display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; }}
 #legend button {{ border: none; background: none; cursor: pointer; font: inherit; padding: 1px 2px; text-align: left; }}
 #legend button.off {{ opacity: 0.35; }}
 #legend .swatch {{ display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 5px; }}
 #side {{ grid-column: 2; grid-row: 1 / 4; border-left: 1px solid #ddd; padding: 10px 14px; overflow-y: auto;
         font-size: 14px; background: white; }}
 #side li {{ margin-bottom: 6px; }}
 #ranking, #colours {{ color: #555; font-size: 12px; }}
</style>
</head>
<body>
<div id="bar">
 <strong>{title}</strong>
 <input id="search" type="search" placeholder="Search titles (highlights matches)" aria-label="search titles">
 <span id="count"></span>
</div>
<div id="plot">{plot}</div>
<div id="legend" aria-label="themes"></div>
<div id="side">
 <h3>Papers like this one</h3>
 <p id="hint">Click a dot to see the papers most like it.</p>
 <p><strong id="picked"></strong></p>
 <p id="cmd"></p>
 <ol id="like"></ol>
 <p id="ranking"></p>
 <p id="themeset"></p>
 <p id="colours">Each dot has the colour of its best theme; the legend counts every member.</p>
</div>
<script>
{labels_js}
</script>
<script>
const PAPERS = {papers};
const NEIGHBOURS = {neighbours};
const THEMES = {themes};
const RANKING = {ranking};
document.getElementById("ranking").textContent = "Ranked " + RANKING + ".";
document.getElementById("themeset").textContent = "Colours: " + {theme_set};
const plot = document.getElementById("{div_id}");
const byId = new Map(PAPERS.map(p => [p.id, p]));
function highlight(query) {{
  const q = query.trim().toLowerCase();
  let hits = 0;
  plot.data.forEach((trace, i) => {{
    const sizes = trace.customdata.map(c => {{
      const match = q && byId.get(c[0]).title.toLowerCase().includes(q);
      if (match) hits += 1;
      return match ? 16 : 9;
    }});
    const opacity = trace.customdata.map(c => (!q || byId.get(c[0]).title.toLowerCase().includes(q)) ? 0.9 : 0.15);
    Plotly.restyle(plot, {{"marker.size": [sizes], "marker.opacity": [opacity]}}, [i]);
  }});
  document.getElementById("count").textContent = q ? hits + " matching" : "";
}}
document.getElementById("search").addEventListener("input", e => highlight(e.target.value));
const legend = document.getElementById("legend");
THEMES.forEach((t, i) => {{
  const b = document.createElement("button");
  const dot = document.createElement("span");
  dot.className = "swatch";
  dot.style.background = t.colour;
  b.appendChild(dot);
  b.appendChild(document.createTextNode(t.id + ": " + t.label + " (" + t.size + ")"));
  b.title = "show or hide this theme";
  b.addEventListener("click", () => {{
    const off = !b.classList.toggle("off");
    Plotly.restyle(plot, {{visible: off ? true : "legendonly"}}, [i]);
    Plotly.relayout(plot, {{["annotations[" + i + "].visible"]: off}});
  }});
  legend.appendChild(b);
}});
// Place the theme labels again with their measured boxes and the plot's real size (labels.js):
// off the dots, off each other, inside the plot. Each placement redraws once; the next finds
// every label in place and stops.
let placing = false;
function placeLabels() {{
  if (placing) return;
  const update = paperlikeLabelUpdate(plot);
  if (update && Object.keys(update).length) {{
    placing = true;
    Plotly.relayout(plot, update).then(() => {{ placing = false; }});
  }}
}}
plot.on("plotly_afterplot", () => window.requestAnimationFrame(placeLabels));
// The plot fills its grid cell: follow the cell when the window or the legend changes its size.
new ResizeObserver(() => Plotly.Plots.resize(plot)).observe(document.getElementById("plot"));
Plotly.Plots.resize(plot);
placeLabels();
plot.on("plotly_click", ev => {{
  const id = ev.points[0].customdata[0];
  const paper = byId.get(id);
  document.getElementById("hint").textContent = "";
  document.getElementById("picked").textContent = paper.title + " [" + id + "]";
  document.getElementById("cmd").textContent = "paperlike similar " + id;
  const list = document.getElementById("like");
  list.replaceChildren();
  (NEIGHBOURS[id] || []).forEach(n => {{
    const li = document.createElement("li");
    li.textContent = byId.get(n[0]).title + " (" + n[1].toFixed(2) + ")";
    list.appendChild(li);
  }});
}});
</script>
</body>
</html>
"""


def map_html(
    frame,
    neighbours: dict[str, list[tuple[str, float]]],
    title: str = "Papers by theme",
    *,
    ranking: str = "by the model's cosine",
    theme_set: str = "",
) -> str:
    """A self-contained HTML page (plotly.js inlined) with the map, a legend of every theme, a
    search box and a panel of the papers most like the one clicked.

    Args:
        frame: A :meth:`Recommender.map_2d` frame.
        neighbours: For each paper id, its most similar papers as ``(id, score)`` pairs.
        title: Page and figure title.
        ranking: How ``neighbours`` were ranked (shown in the panel).
        theme_set: Which theme set colours the map (shown in the panel).
    """
    fig = map_figure(frame, title, legend=False)
    fig.update_layout(height=None, autosize=True, title=None, margin={"l": 4, "r": 4, "t": 4, "b": 4})
    div_id = "paperlike-map"
    plot = fig.to_html(
        include_plotlyjs=True,
        full_html=False,
        div_id=div_id,
        config={"responsive": True, "displaylogo": False},
        default_width="100%",
        default_height="100%",
    )
    papers = [{"id": str(i), "title": str(t), "theme": str(th)} for i, t, th in zip(frame["id"], frame["title"], frame["theme"])]
    order = list(dict.fromkeys(str(t) for t in frame["theme"]))
    counts = {**frame["theme"].astype(str).value_counts().to_dict(), **frame.attrs.get("theme_sizes", {})}
    labels = dict(zip(frame["theme"].astype(str), frame["theme_label"].astype(str)))
    themes = [{"id": t, "label": labels[t], "size": int(counts[t]), "colour": colour(i)} for i, t in enumerate(order)]
    return _PAGE.format(
        title=html.escape(title),
        plot=plot,
        papers=_safe_json(papers),
        neighbours=_safe_json({k: [[a, round(float(b), 4)] for a, b in v] for k, v in neighbours.items()}),
        themes=_safe_json(themes),
        ranking=_safe_json(ranking),
        theme_set=_safe_json(theme_set),
        div_id=div_id,
        labels_js=label_script(),
    )
