"""The HTML page's charts: Plotly figures drawn from rows the report already read (no arithmetic
here), returned as figure JSON for the inlined plotly.js to draw."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

Rows = list[dict[str, Any]]

INK = "#1f3a5f"
LIGHT = "#b8c4d6"
BLUE = "#3d7ea6"
WARN = "#b5523b"


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "font": {"size": 15}},
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "height": 320,
        "template": "plotly_white",
        "legend": {"orientation": "h", "y": -0.15},
        **extra,
    }


def figure_json(figure: go.Figure) -> str:
    """The figure as JSON to inline in <script type="application/json">: no "</" may close the
    element early."""
    return figure.to_json().replace("</", "<\\/")


def daily_impressions(days: Rows, top_days: Rows) -> str:
    """Impressions per day (every workbook) and one line per top workbook."""
    figure = go.Figure(
        go.Scatter(
            x=[d["impression_date"] for d in days],
            y=[d["impressions"] for d in days],
            name="all workbooks",
            mode="lines",
            line={"width": 3, "color": INK},
        )
    )
    lines: dict[str, dict[str, Any]] = {}
    for row in top_days:
        line = lines.setdefault(row["workbook_url_id"], {"name": row["workbook_name"], "x": [], "y": []})
        line["x"].append(row["impression_date"])
        line["y"].append(row["impressions"])
    for line in lines.values():
        figure.add_trace(go.Scatter(x=line["x"], y=line["y"], name=line["name"], mode="lines", line={"width": 1.5}))
    figure.update_layout(**_layout(f"Impressions per day, last {len(days)} days", hovermode="x unified"))
    return figure_json(figure)


def daily_users(days: Rows) -> str:
    """Active users per day."""
    figure = go.Figure(
        go.Bar(
            x=[d["impression_date"] for d in days],
            y=[d["active_users"] for d in days],
            name="active users",
            marker={"color": BLUE},
        )
    )
    figure.update_layout(**_layout(f"Active users per day, last {len(days)} days"))
    return figure_json(figure)


def _bars(names: list[str], values: list[Any], name: str, color: str) -> go.Bar:
    """Horizontal bars, one per name."""
    return go.Bar(y=names, x=values, name=name, orientation="h", marker={"color": color})


def top_workbooks(rows: Rows) -> str:
    """The first rows (in their order, the first on top): last 14 days against the 14 before."""
    shown = list(reversed(rows))
    names = [r["workbook_name"] or r["workbook_url_id"] for r in shown]
    figure = go.Figure(
        [
            _bars(names, [r["impressions_previous_14d"] for r in shown], "previous 14 days", LIGHT),
            _bars(names, [r["impressions_14d"] for r in shown], "last 14 days", INK),
        ]
    )
    figure.update_layout(**_layout("Top workbooks: last 14 days against the 14 days before", barmode="group"))
    figure.update_layout(margin={"l": 180}, height=max(260, 60 + 45 * len(shown)))
    return figure_json(figure)


def teams(rows: Rows) -> str:
    """Per team (in the rows' order, the first on top): impressions in 30 days beside active
    members in 14 days, each on its own axis."""
    shown = list(reversed(rows))
    names = [r["team_name"] for r in shown]
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=("impressions, last 30 days", "active members, last 14 days"),
    )
    members = {
        "customdata": [r["member_count"] for r in shown],
        "hovertemplate": "%{x} of %{customdata} members<extra></extra>",
    }
    panels = (
        ("impressions_30d", "impressions, 30 days", INK, {}),
        ("active_members_14d", "active members, 14 days", BLUE, members),
    )
    for col, (column, name, color, extra) in enumerate(panels, start=1):
        figure.add_trace(_bars(names, [r[column] for r in shown], name, color).update(extra), row=1, col=col)
    figure.update_layout(**_layout("", showlegend=False))
    figure.update_layout(title=None, margin={"l": 160, "t": 40}, height=max(260, 80 + 36 * len(shown)))
    return figure_json(figure)


def rejected(rows: Rows) -> str:
    """Rejected rows per reason."""
    figure = go.Figure(
        go.Bar(x=[r["reason"] for r in rows], y=[r["rows_rejected"] for r in rows], marker={"color": WARN})
    )
    figure.update_layout(**{**_layout("Rejected rows by reason"), "height": 280})
    return figure_json(figure)
