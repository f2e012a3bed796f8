"""Model cards: what a model version is for, what it learned from, how good it is,
where it came from, who approved it and where it runs, in Markdown or HTML.

Everything but the intended use is read from the store (version, run, datasets,
validation reports, promotion requests, deployments, audit trail), so a card is never
out of date; the intended use is written by people and kept per version.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from ..errors import InvalidInput
from ..store import schema as s
from .audit import AuditFilter

MAX_INTENDED_USE = 20_000


def _when(ms: int | None) -> str:
    if not ms:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def _columns(schema: Any, most: int = 20) -> str:
    """Column names of a dataset schema (a list of ``{"name", "dtype"}``)."""
    names = [str(c.get("name", "")) if isinstance(c, dict) else str(c)
             for c in (schema or [])]
    more = f" … (+{len(names) - most})" if len(names) > most else ""
    return ", ".join(names[:most]) + more


@dataclass
class ModelCard:
    """The facts of one model version, rendered by :meth:`to_markdown` / :meth:`to_html`."""

    model: str
    version: int
    facts: dict[str, Any]
    intended_use: str = ""
    sections: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    """(title, header, rows) tables, in order."""

    def to_markdown(self) -> str:
        """The card as Markdown (cells escaped for tables)."""
        def cell(text: str) -> str:
            return str(text).replace("|", "\\|").replace("\n", " ")

        out = [f"# Model card: {self.model} v{self.version}", ""]
        out += [f"- **{k}**: {cell(v)}" for k, v in self.facts.items()]
        out += ["", "## Intended use", "", self.intended_use or
                "_Not written yet: describe what this model is for, and what it must not "
                "be used for._", ""]
        for title, header, rows in self.sections:
            out += [f"## {title}", ""]
            if not rows:
                out += ["_none_", ""]
                continue
            out.append("| " + " | ".join(cell(h) for h in header) + " |")
            out.append("|" + "---|" * len(header))
            out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
            out.append("")
        return "\n".join(out)

    def to_html(self) -> str:
        """The card as a self-contained HTML fragment (every value escaped)."""
        e = html.escape
        parts = [f"<article class='mlops-ModelCard'><h1>Model card: {e(self.model)} "
                 f"v{self.version}</h1><dl>"]
        parts += [f"<dt>{e(k)}</dt><dd>{e(str(v))}</dd>" for k, v in self.facts.items()]
        parts.append("</dl><h2>Intended use</h2>")
        parts.append(f"<p>{e(self.intended_use)}</p>" if self.intended_use else
                     "<p><em>Not written yet: describe what this model is for, and what it "
                     "must not be used for.</em></p>")
        for title, header, rows in self.sections:
            parts.append(f"<h2>{e(title)}</h2>")
            if not rows:
                parts.append("<p><em>none</em></p>")
                continue
            parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header)
                         + "</tr></thead><tbody>")
            parts += ["<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>"
                      for r in rows]
            parts.append("</tbody></table>")
        parts.append("</article>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def save(self, path: str) -> str:
        """Write the card: ``.md`` as Markdown, anything else as an HTML page."""
        if str(path).endswith(".md"):
            text = self.to_markdown()
        else:
            text = (f"<!doctype html><html><head><meta charset='utf-8'><title>Model card "
                    f"{html.escape(self.model)} v{self.version}</title><style>body{{font-family:"
                    "sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse"
                    "}}td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left}}</style>"
                    f"</head><body>{self.to_html()}</body></html>")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return str(path)


class ModelCards:
    """Builds cards and keeps the intended use of each version."""

    def __init__(self, registry: Any, promotions: Any, serving: Any | None = None) -> None:
        self.registry = registry
        self.promotions = promotions
        self.serving = serving
        self.db = registry.db
        self.access = registry.access

    def set_intended_use(self, model: str, version: int | str, user: str, text: str) -> str:
        """Write the intended use of a version (who may change the model may write it)."""
        if not isinstance(text, str):
            raise InvalidInput("intended_use must be text", field="intended_use")
        if len(text) > MAX_INTENDED_USE:
            raise InvalidInput(f"intended_use is longer than {MAX_INTENDED_USE} characters",
                               field="intended_use")
        from ..tracking.service import now_ms

        with self.db.write() as conn:
            row = self.registry._version_row(conn, model, version)
            self.access.require(conn, user, "register", ("model", row.model))
            mc = s.model_cards.c
            before = conn.execute(select(mc.intended_use).where(
                mc.model == row.model, mc.version == row.version)).scalar()
            values = {"intended_use": text, "updated_at": now_ms(), "updated_by": user}
            if before is None:
                conn.execute(insert(s.model_cards).values(model=row.model,
                                                          version=row.version, **values))
            else:
                conn.execute(update(s.model_cards).where(
                    mc.model == row.model, mc.version == row.version).values(**values))
            self.access.audit.append(conn, user, "card.update", "model",
                                     f"{row.model}/{row.version}",
                                     None if before is None else {"intended_use": before},
                                     {"intended_use": text})
        return text

    def _explanation_section(self, model: str, version: int
                             ) -> tuple[str, list[str], list[list[str]]]:
        """The top features of the version's latest stored explanation."""
        from ..errors import NotFound
        from ..explain.service import ExplanationService

        try:
            latest = ExplanationService(self.db, self.registry).get(model, version)
        except NotFound:
            return ("Explanation", ["feature", "importance", "std"], [])
        title = (f"Explanation (permutation importance, {_when(latest['created_at'])} by "
                 f"{latest['created_by']})")
        header = ["feature", f"mean drop in {latest['scoring']}", "std"]
        rows = [[str(i["feature"]), _num(i["mean"]), _num(i["std"])]
                for i in latest["importance"][:10]]
        rows.append([f"({latest['rows']} rows; per-row values: {latest['local_method']}, "
                     f"{latest['target']})", "", ""])
        return (title, header, rows)

    def card(self, model: str, version: int | str = "latest") -> ModelCard:
        """The card of a version, built from the store now."""
        v = self.registry.get_version(model, version)
        tracking = self.registry.tracking
        run = tracking.get_run(v.run_id)
        with self.db.read() as conn:
            mc = s.model_cards.c
            intended = conn.execute(select(mc.intended_use).where(
                mc.model == v.name, mc.version == v.version)).scalar() or ""
        source = run.source or {}
        facts = {
            "status": v.status + (" (archived)" if v.archived else ""),
            "aliases": ", ".join("@" + a for a in v.aliases) or "—",
            "model class": v.model_class or "—", "flavor": v.flavor or "—",
            "registered": f"{_when(v.created_at)} by {v.created_by}",
            "description": v.description or "—",
        }
        sections: list[tuple[str, list[str], list[list[str]]]] = []
        sections.append(("Training data", ["dataset", "version", "role", "rows", "columns",
                                           "fingerprint"],
                         [[d.get("name", ""), _num(d.get("version")), d.get("role", ""),
                           _num(d.get("rows")), _columns(d.get("schema")),
                           str(d.get("fingerprint", ""))[:16]] for d in run.datasets]))
        sections.append(("Metrics (at registration)", ["metric", "value"],
                         [[k, _num(val)] for k, val in sorted(v.metrics.items())]))
        reports = self.registry.list_validations(v.name, v.version)
        if reports:
            latest = reports[0]
            sections.append((f"Validation ({'passed' if latest.passed else 'FAILED'}, "
                             f"{_when(latest.created_at)} by {latest.created_by})",
                             ["rule", "passed", "value", "detail"],
                             [[str(r.get("rule", "")), "yes" if r.get("passed") else "NO",
                               _num(r.get("value")), str(r.get("detail") or "")]
                              for r in latest.results]))
        else:
            sections.append(("Validation", ["rule", "passed"], []))
        sections.append(self._explanation_section(v.name, v.version))
        lineage = [["run", f"{run.name} ({run.id})"], ["experiment", run.experiment_name],
                   ["trained by", run.user], ["started", _when(run.start_time)]]
        for key in ("notebook", "notebook_sha256", "git_commit", "git_remote"):
            if source.get(key):
                lineage.append([key.replace("_", " "), str(source[key])])
        lineage += [[f"param {k}", val] for k, val in sorted(run.params.items())]
        sections.append(("Lineage", ["", ""], lineage))
        promotions = [p for p in self.promotions.list(model=v.name, limit=1000)
                      if p.version == v.version]
        approvals = []
        for p in promotions:
            approvals.append([_when(p.created_at), "requested", p.requester, p.comment])
            approvals += [[_when(d.at), d.decision + "d", d.user, d.comment]
                          for d in p.decisions]
            if p.status == "cancelled":
                approvals.append([_when(p.decided_at), "cancelled", p.requester, ""])
        sections.append(("Approvals", ["when", "what", "who", "comment"], approvals))
        history: list[list[str]] = []
        audit = self.access.audit
        for prefix in (f"{v.name}@", f"{v.name}/{v.version}"):
            for event in audit.iter_events(AuditFilter(target_type="model", target=prefix)):
                if event.action == "alias.set" and (event.after or {}).get("version") != \
                        v.version and (event.before or {}).get("version") != v.version:
                    continue
                if event.action.startswith(("alias.", "version.", "promotion.")) or \
                        event.action == "validation.record":
                    history.append([_when(event.time), event.action, event.actor,
                                    event.target])
        if self.serving is not None:
            for dep in self.serving.list():
                if dep.model != v.name:
                    continue
                weight = sum(t["weight"] for t in dep.desired.get("traffic", [])
                             if t["version"] == v.version)
                if weight or dep.desired.get("shadow") == v.version:
                    history.append(["now", f"serving {weight}%" if weight else "shadow",
                                    dep.name, f"{dep.environment}, {dep.status}"])
        sections.append(("History and deployments", ["when", "what", "who", "where"],
                         sorted(history, key=lambda r: r[0])))
        return ModelCard(v.name, v.version, facts, intended, sections)
