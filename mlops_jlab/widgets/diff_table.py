"""The params/metrics table of a run comparison: one row per key, one column per run,
rows whose values differ between runs highlighted."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import pandas as pd

from .theme import BORDER, DIFF_BACKGROUND, FONT, MUTED, fmt

if TYPE_CHECKING:
    from ..tracking.records import Run

SECTIONS = ("params", "metrics")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def diff_frame(runs: Sequence[Run], labels: Sequence[str]) -> pd.DataFrame:
    """Rows ``params.<key>`` then ``metrics.<key>`` (each sorted), columns ``labels``;
    a run without the key has ``None``."""
    rows: dict[str, list[Any]] = {}
    for section in SECTIONS:
        keys = sorted({k for r in runs for k in getattr(r, section)})
        for key in keys:
            rows[f"{section}.{key}"] = [getattr(r, section).get(key) for r in runs]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(labels), dtype=object)
    frame.index.name = "key"
    return frame.astype(object).where(frame.notna(), None)


def differing(frame: pd.DataFrame) -> pd.Series:
    """Per row: do the runs disagree (a missing value counts as a value of its own)?"""
    def differs(row: pd.Series) -> bool:
        return len({None if _missing(v) else v for v in row}) > 1

    if frame.empty:
        return pd.Series([], index=frame.index, dtype=bool)
    return frame.apply(differs, axis=1).astype(bool)


def diff_table_html(frame: pd.DataFrame, colors: Sequence[str],
                    only_differences: bool = False) -> str:
    """The table as HTML: a colored swatch per run, a header row per section, differing
    rows on an amber background; every key, label and value escaped."""
    differs = differing(frame)
    cell = f"padding:2px 10px;border-bottom:1px solid {BORDER};"
    head = "".join(
        f"<th style='{cell}text-align:right;white-space:nowrap'>"
        f"<span style='display:inline-block;width:9px;height:9px;border-radius:2px;"
        f"background:{color};margin-right:4px'></span>{escape(str(label))}</th>"
        for label, color in zip(frame.columns, colors, strict=False))
    body = []
    shown = 0
    for section in SECTIONS:
        keys = [k for k in frame.index if k.startswith(f"{section}.")
                and (differs[k] or not only_differences)]
        if not keys:
            continue
        body.append(f"<tr><td colspan='{len(frame.columns) + 1}' style='{cell}"
                    f"font-weight:600;color:{MUTED};padding-top:6px'>{section}</td></tr>")
        for key in keys:
            shown += 1
            style = f" style='background:{DIFF_BACKGROUND}'" if differs[key] else ""
            values = "".join(
                f"<td style='{cell}text-align:right;font-variant-numeric:tabular-nums'>"
                f"{fmt(v)}</td>" for v in frame.loc[key])
            body.append(f"<tr{style} title='{'values differ' if differs[key] else ''}'>"
                        f"<td style='{cell}'>{escape(key.split('.', 1)[1])}</td>"
                        f"{values}</tr>")
    total, n_diff = len(frame.index), int(differs.sum())
    note = (f"{n_diff} of {total} params and metrics differ"
            + (" (only those shown)" if only_differences else " (highlighted)"))
    if not shown:
        body.append(f"<tr><td colspan='{len(frame.columns) + 1}' style='{cell}"
                    f"color:{MUTED}'>{'no differences' if total else 'nothing recorded'}"
                    "</td></tr>")
    return (f"<div class='mlops-compare-table' style='{FONT};overflow-x:auto'>"
            f"<div style='color:{MUTED};margin-bottom:2px'>{note}</div>"
            "<table style='border-collapse:collapse'>"
            f"<thead><tr><th style='{cell}text-align:left'>key</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")
