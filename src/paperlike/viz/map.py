"""The interactive map of themes: a plotly figure for notebooks, and a standalone HTML page.

One dot per paper at its :mod:`~paperlike.projection` coordinates, one colour (and legend entry)
per theme, the theme labels written at the theme centres, the title and theme on hover. The HTML
page inlines plotly.js (it opens with no network), adds a search box that highlights matching
titles, and a side panel that lists the papers most like the dot clicked.

Paper text reaches the page only as JSON inside scripts, with ``<``, ``>`` and ``&`` written as
``\\u003c``-style escapes, and is put into the page with ``textContent``; a title containing
``<script>`` shows as text and never runs.
"""

from __future__ import annotations

import html
import json
from typing import Any

__all__ = ["map_figure", "map_html"]

_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
]


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


def map_figure(frame, title: str = "Papers by theme"):
    """A plotly figure of a :meth:`Recommender.map_2d` frame (one trace per theme).

    Args:
        frame: DataFrame with columns id, title, x, y, theme, theme_label.
        title: Figure title.
    """
    go = _plotly()
    fig = go.Figure()
    order = list(dict.fromkeys(frame["theme"]))
    for i, theme in enumerate(order):
        part = frame[frame["theme"] == theme]
        label = str(part["theme_label"].iloc[0])
        colour = _PALETTE[i % len(_PALETTE)]
        fig.add_trace(
            go.Scatter(
                x=part["x"].tolist(),
                y=part["y"].tolist(),
                mode="markers",
                name=f"{theme}: {label}",
                marker={"size": 9, "color": colour, "opacity": 0.85, "line": {"width": 0.5, "color": "white"}},
                # Escaped here because plotly renders a little HTML in hover labels.
                customdata=[[pid, html.escape(t), html.escape(label)] for pid, t in zip(part["id"], part["title"])],
                hovertemplate="<b>%{customdata[1]}</b><br>%{customdata[0]}<br>theme: %{customdata[2]}<extra></extra>",
            )
        )
        fig.add_annotation(
            x=float(part["x"].mean()),
            y=float(part["y"].mean()),
            text=html.escape(label),
            showarrow=False,
            font={"size": 12, "color": colour},
            bgcolor="rgba(255,255,255,0.7)",
        )
    fig.update_layout(
        title=html.escape(title),
        template="plotly_white",
        height=700,
        legend={"title": {"text": "themes"}, "orientation": "h", "yanchor": "top", "y": -0.01, "x": 0},
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return fig


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; margin: 0; display: flex; height: 100vh; }}
 #main {{ flex: 1; display: flex; flex-direction: column; min-width: 0; overflow: hidden; }}
 #bar {{ padding: 8px 12px; border-bottom: 1px solid #ddd; display: flex; gap: 12px; align-items: center; }}
 #search {{ width: 28em; padding: 4px 8px; font-size: 14px; }}
 .plotly-graph-div {{ max-width: 100%; }}
 #side {{ background: white; position: relative; z-index: 2; flex: none; width: 24em; border-left: 1px solid #ddd; padding: 10px 14px; overflow-y: auto; font-size: 14px; }}
 #side li {{ margin-bottom: 6px; }}
 code {{ background: #f3f3f3; padding: 1px 4px; }}
</style>
</head>
<body>
<div id="main">
 <div id="bar">
  <strong>{title}</strong>
  <input id="search" type="search" placeholder="Search titles (highlights matches)" aria-label="search titles">
  <span id="count"></span>
 </div>
 {plot}
</div>
<div id="side">
 <h3>Papers like this one</h3>
 <p id="hint">Click a dot to see the papers most like it.</p>
 <p><strong id="picked"></strong></p>
 <p id="cmd"></p>
 <ol id="like"></ol>
</div>
<script>
const PAPERS = {papers};
const NEIGHBOURS = {neighbours};
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


def map_html(frame, neighbours: dict[str, list[tuple[str, float]]], title: str = "Papers by theme") -> str:
    """A self-contained HTML page (plotly.js inlined) with the map, a search box and a panel of
    the papers most like the one clicked.

    Args:
        frame: A :meth:`Recommender.map_2d` frame.
        neighbours: For each paper id, its most similar papers as ``(id, cosine)`` pairs.
        title: Page and figure title.
    """
    fig = map_figure(frame, title)
    div_id = "paperlike-map"
    plot = fig.to_html(
        include_plotlyjs=True,
        full_html=False,
        div_id=div_id,
        config={"responsive": True},
        default_width="100%",
    )
    papers = [{"id": str(i), "title": str(t), "theme": str(th)} for i, t, th in zip(frame["id"], frame["title"], frame["theme"])]
    return _PAGE.format(
        title=html.escape(title),
        plot=plot,
        papers=_safe_json(papers),
        neighbours=_safe_json({k: [[a, round(float(b), 4)] for a, b in v] for k, v in neighbours.items()}),
        div_id=div_id,
    )
