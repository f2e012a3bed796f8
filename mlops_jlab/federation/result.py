"""What ``mlops.federated`` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .server import RoundRecord


def history_frame(records: list[RoundRecord]) -> pd.DataFrame:
    """One row per round: global metrics, per-site metrics, time and bytes."""
    rows = []
    for r in records:
        row: dict[str, Any] = {"round": r.round, **r.global_metrics}
        for site, metrics in r.sites.items():
            for key, value in metrics.items():
                row[f"site.{site}.{key}"] = value
        row.update({f"aggregation.{k}": v for k, v in r.aggregation.items()})
        row.update(seconds=r.seconds, bytes_received=r.bytes_received)
        rows.append(row)
    return pd.DataFrame.from_records(rows)


@dataclass
class FederatedResult:
    """The global model, the round history, the tracked run and the registered version.

    ``history`` has one row per round (``global_<score>``, ``global_loss``,
    ``site.<name>.<metric>``…); ``centralized`` holds the pooled-data reference when it
    was measured (``compare_centralized=True``).
    """

    global_model: Any
    history: pd.DataFrame
    run_id: str
    sites: list[str]
    score: str
    engine: str
    model_version: Any = None
    centralized: dict[str, float] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def final_score(self) -> float:
        """The global held-out score after the last round."""
        return float(self.history[f"global_{self.score}"].iloc[-1])

    @property
    def gap(self) -> float | None:
        """Centralized minus federated score (positive: federating lost that much)."""
        if not self.centralized:
            return None
        return float(self.centralized[self.score]) - self.final_score

    def figure(self) -> Any:
        """Global and per-site score by round (plotly)."""
        from .figure import rounds_figure

        return rounds_figure(self.history, score=self.score, sites=self.sites,
                             subtitle=self.subtitle(),
                             centralized=(self.centralized or {}).get(self.score))

    def subtitle(self) -> str:
        s = self.settings
        parts = [f"{len(self.sites)} sites", f"{s.get('model', '')}",
                 f"{len(self.history)} rounds x {s.get('local_epochs', 1)} local epoch(s)",
                 f"engine {self.engine}"]
        if s.get("dp"):
            parts.append(f"DP clip {s['dp']['clip']:g}, noise x{s['dp']['noise_multiplier']:g}")
        if self.gap is not None:
            parts.append(f"gap to centralized {self.gap:+.3f}")
        return " · ".join(parts)

    def summary(self) -> str:
        """One line: final score, sites, rounds, gap, run and version."""
        text = (f"federated {self.settings.get('model', '')} on {len(self.sites)} sites, "
                f"{len(self.history)} round(s): global {self.score} {self.final_score:.4f}")
        if self.centralized:
            text += (f" (centralized {self.centralized[self.score]:.4f}, "
                     f"gap {self.gap:+.4f})")
        text += f"; run {self.run_id[:8]}"
        if self.model_version is not None:
            text += f", registered {self.model_version.name} v{self.model_version.version}"
        return text

    def table(self) -> pd.DataFrame:
        """Per-site figures of the last round (score, loss, training and held-out rows)."""
        last = self.history.iloc[-1]
        rows = [{"site": s, self.score: last[f"site.{s}.{self.score}"],
                 "loss": last[f"site.{s}.loss"],
                 "training rows": int(last[f"site.{s}.examples"]),
                 "held-out rows": int(last[f"site.{s}.eval_examples"])} for s in self.sites]
        rows.append({"site": "global", self.score: last[f"global_{self.score}"],
                     "loss": last["global_loss"],
                     "training rows": sum(r["training rows"] for r in rows),
                     "held-out rows": sum(r["held-out rows"] for r in rows)})
        if self.centralized:
            rows.append({"site": "centralized (pooled)",
                         self.score: self.centralized[self.score],
                         "loss": self.centralized["loss"],
                         "training rows": rows[-1]["training rows"],
                         "held-out rows": rows[-1]["held-out rows"]})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        from html import escape

        from ..widgets.theme import figure_html

        return (f"<p><b>{escape(self.summary())}</b></p>"
                + self.table().to_html(index=False, na_rep="—", float_format="{:.4f}".format)
                + figure_html(self.figure(), include_plotlyjs="cdn"))

    def _ipython_display_(self) -> None:
        from html import escape

        from IPython.display import HTML, display

        from ..widgets.theme import figure_bundle

        display(HTML(f"<p><b>{escape(self.summary())}</b></p>"
                     + self.table().to_html(index=False, na_rep="—",
                                            float_format="{:.4f}".format)))
        display(figure_bundle(self.figure()), raw=True)
