"""Compile parsed filters and order terms into SQLAlchemy; keyset (cursor) paging.

Every literal becomes a bound parameter. Metric, param and tag conditions are
``EXISTS`` sub-queries on their key, so ``and``/``or``/``not`` compose freely; ordering
by a metric, param or tag outer-joins that key so runs without it sort last.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson
from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    exists,
    false,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..errors import FilterError, PageTokenError
from ..store import schema as s
from .filter import BoolOp, Comparison, Field, Node, Not, OrderTerm
from .records import RUN_STATUSES


class numeric_or_null(FunctionElement[float]):
    """The number a text value spells, or NULL when it is not a number (per dialect)."""

    type = Float()
    inherit_cache = True
    name = "numeric_or_null"


@compiles(numeric_or_null, "sqlite")
def _numeric_sqlite(element: numeric_or_null, compiler: Any, **kw: Any) -> str:
    # mlops_num is registered on every SQLite connection (see store.db)
    return f"mlops_num({compiler.process(element.clauses, **kw)})"


@compiles(numeric_or_null)
def _numeric_default(element: numeric_or_null, compiler: Any, **kw: Any) -> str:
    arg = compiler.process(element.clauses, **kw)
    pattern = r"'^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'"
    return f"(CASE WHEN {arg} ~ {pattern} THEN CAST({arg} AS DOUBLE PRECISION) END)"


_KV_TABLES = {"metrics": s.latest_metrics, "params": s.params, "tags": s.tags}


def _attribute_column(name: str) -> ColumnElement[Any]:
    r = s.runs.c
    if name == "run_id":
        return r.id
    if name == "duration":
        return (r.end_time - r.start_time) / literal(1000.0)
    return {
        "name": r.name,
        "status": r.status,
        "user": r.user,
        "start_time": r.start_time,
        "end_time": r.end_time,
        "experiment_id": r.experiment_id,
        "parent_run_id": r.parent_run_id,
    }[name]


def _as_time_ms(value: Any, cmp: Comparison) -> int:
    if isinstance(value, (int, float)):
        return int(value)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FilterError(
            f"{cmp.field} compares with epoch milliseconds or an ISO time, not {value!r}",
            cmp.position) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def _apply(col: ColumnElement[Any], cmp: Comparison, value: Any) -> ColumnElement[bool]:
    op = cmp.op
    if op == "=":
        return col == value
    if op == "!=":
        return col != value
    if op == "<":
        return col < value
    if op == "<=":
        return col <= value
    if op == ">":
        return col > value
    if op == ">=":
        return col >= value
    if op == "in":
        return col.in_(list(value))
    if op == "not in":
        return col.not_in(list(value))
    if op in ("like", "not like"):
        expr = col.like(value, escape="\\")
        return not_(expr) if op.startswith("not") else expr
    if op in ("ilike", "not ilike"):
        expr = col.ilike(value, escape="\\")
        return not_(expr) if op.startswith("not") else expr
    raise FilterError(f"operator {op!r} is not supported here", cmp.position)


def _compile_attribute(cmp: Comparison) -> ColumnElement[bool]:
    key = cmp.field.key
    col = _attribute_column(key)
    if cmp.op == "is null":
        return col.is_(None)
    if cmp.op == "is not null":
        return col.is_not(None)
    values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    if key in ("start_time", "end_time"):
        if cmp.op in ("like", "ilike", "not like", "not ilike"):
            raise FilterError(f"{cmp.field} is a time: compare it with <, >, =", cmp.position)
        converted: Any = tuple(_as_time_ms(v, cmp) for v in values)
    elif key == "duration":
        if any(not isinstance(v, (int, float)) for v in values):
            raise FilterError(f"{cmp.field} is in seconds: compare it with a number",
                              cmp.position)
        converted = values
    else:
        converted = tuple(str(v) if isinstance(v, (int, float)) else v for v in values)
        if key == "status" and cmp.op in ("=", "!=", "in", "not in"):
            unknown = [v for v in converted if v not in RUN_STATUSES]
            if unknown:
                raise FilterError(
                    f"unknown status {unknown[0]!r}; statuses: {', '.join(RUN_STATUSES)}",
                    cmp.position)
    value = converted if isinstance(cmp.value, tuple) else converted[0]
    return _apply(col, cmp, value)


def _compile_key_value(cmp: Comparison) -> ColumnElement[bool]:
    kind, key = cmp.field.kind, cmp.field.key
    table = _KV_TABLES[kind]
    match = and_(table.c.run_id == s.runs.c.id, table.c.key == key)
    if cmp.op == "is null":
        return not_(exists().where(match))
    if cmp.op == "is not null":
        return exists().where(match)
    values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    col: ColumnElement[Any] = table.c.value
    if kind == "metrics":
        _check_metric_comparison(cmp)
        value: Any = cmp.value
    elif cmp.op in ("<", "<=", ">", ">=") and isinstance(cmp.value, (int, float)):
        # numeric comparison of a param/tag stored as text; non-numbers never match
        col = numeric_or_null(table.c.value)
        value = cmp.value
    else:
        texts = tuple(_text_of(v) for v in values)
        value = texts if isinstance(cmp.value, tuple) else texts[0]
        if cmp.op in ("=", "in") and any(isinstance(v, float) and v.is_integer() for v in values):
            # params.n = 200.0 also matches the text "200"
            texts = texts + tuple(str(int(v)) for v in values
                                  if isinstance(v, float) and v.is_integer())
            return exists().where(match, table.c.value.in_(texts))
        if cmp.op in ("!=", "not in"):
            return not_(exists().where(match, table.c.value.in_(texts)))
    return exists().where(match, _apply(col, cmp, value))


def _check_metric_comparison(cmp: Comparison) -> None:
    values = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    if cmp.op in ("like", "ilike", "not like", "not ilike"):
        raise FilterError(f"{cmp.field} is numeric: '{cmp.op}' needs params or tags",
                          cmp.position)
    bad = [v for v in values if not isinstance(v, (int, float))]
    if bad:
        raise FilterError(f"{cmp.field} is numeric: compare it with a number, not {bad[0]!r}",
                          cmp.position)


_POSITIVE_OPS = ("=", "<", "<=", ">", ">=", "in")


def required_metric_comparisons(node: Node | None,
                                terms: list[OrderTerm]) -> dict[int, list[Comparison]]:
    """For each order term on a metric that a top-level ``and`` of the filter compares
    with a value (so every match has that metric, non-null), the comparisons to move
    onto an inner join: the database can then walk the (key, value) index in order."""
    if node is None:
        return {}
    conjuncts = node.operands if isinstance(node, BoolOp) and node.op == "and" else (node,)
    out: dict[int, list[Comparison]] = {}
    for i, term in enumerate(terms):
        if term.field.kind != "metrics" or i > 0:
            continue  # only the leading sort key benefits
        found = [c for c in conjuncts if isinstance(c, Comparison) and
                 c.field.kind == "metrics" and c.field.key == term.field.key and
                 c.op in _POSITIVE_OPS]
        for c in found:
            _check_metric_comparison(c)
        if found:
            out[i] = found
    return out


def _text_of(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def compile_filter(node: Node | None,
                   skip: frozenset[int] = frozenset()) -> ColumnElement[bool]:
    """SQL condition on ``runs`` for a parsed filter (``true()`` when there is none).

    Comparisons whose ``id`` is in ``skip`` are left out (they moved onto a join)."""
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [compile_filter(n, skip) for n in node.operands]
        return and_(*parts) if node.op == "and" else or_(*parts)
    if isinstance(node, Not):
        return not_(compile_filter(node.operand, skip))
    if isinstance(node, Comparison):
        if id(node) in skip:
            return true()
        if node.field.kind == "attributes":
            return _compile_attribute(node)
        return _compile_key_value(node)
    return false()


@dataclass(frozen=True)
class SortKey:
    """One column of the effective sort: expression, direction, label."""

    expr: ColumnElement[Any]
    descending: bool
    label: str


def apply_order(query: Select[Any], terms: list[OrderTerm],
                required: dict[int, list[Comparison]] | None = None,
                ) -> tuple[Select[Any], list[SortKey]]:
    """Join what ``terms`` need and return the query with the full sort key list.

    Each metric/param/tag term contributes a null flag first, so runs without
    the key sort last in both directions, unless the filter requires the key
    (``required``, see :func:`required_metric_comparisons`): then it is an inner join
    carrying those comparisons, with no null flag. ``start_time DESC`` and then ``id``
    are appended as tie-breakers, which makes the order total (needed by cursors).
    """
    required = required or {}
    keys: list[SortKey] = []
    for i, term in enumerate(terms):
        field: Field = term.field
        if field.kind == "attributes":
            col = _attribute_column(field.key)
            if field.key in ("end_time", "duration"):
                keys.append(SortKey(case((col.is_(None), 1), else_=0), False, f"_n{i}"))
            keys.append(SortKey(col, term.descending, f"_o{i}"))
            continue
        table = _KV_TABLES[field.kind].alias(f"ord{i}")
        on = and_(table.c.run_id == s.runs.c.id, table.c.key == field.key)
        value: ColumnElement[Any] = table.c.value
        if i in required:
            conditions = [_apply(value, c, c.value) for c in required[i]]
            query = query.join(table, and_(on, *conditions))
        else:
            query = query.outerjoin(table, on)
            keys.append(SortKey(case((value.is_(None), 1), else_=0), False, f"_n{i}"))
        keys.append(SortKey(value, term.descending, f"_o{i}"))
    if not any(t.field.kind == "attributes" and t.field.key == "start_time" for t in terms):
        keys.append(SortKey(s.runs.c.start_time, True, "_st"))
    keys.append(SortKey(s.runs.c.id, False, "_id"))
    query = query.add_columns(*(k.expr.label(k.label) for k in keys))
    query = query.order_by(*(k.expr.desc() if k.descending else k.expr.asc() for k in keys))
    return query, keys


def after_cursor(keys: list[SortKey], last: list[Any]) -> ColumnElement[bool]:
    """Condition selecting rows strictly after the row whose sort values are ``last``."""
    alternatives = []
    for i, key in enumerate(keys):
        value = last[i]
        if value is None:
            continue  # nothing sorts after NULL inside its (null-flagged) group
        prefix = [k.expr.is_(None) if v is None else k.expr == v
                  for k, v in zip(keys[:i], last[:i], strict=True)]
        step = key.expr < value if key.descending else key.expr > value
        alternatives.append(and_(*prefix, step))
    return or_(*alternatives) if alternatives else false()


def query_fingerprint(*parts: Any) -> str:
    """Short digest tying a page token to the query that issued it."""
    return hashlib.sha256(orjson.dumps(parts, default=str)).hexdigest()[:16]


def encode_token(fingerprint: str, last: list[Any]) -> str:
    """Opaque cursor for the page after the row with sort values ``last``."""
    return base64.urlsafe_b64encode(orjson.dumps({"q": fingerprint, "k": last})).decode()


def decode_token(token: str, fingerprint: str, n_keys: int) -> list[Any]:
    """Sort values of the previous page's last row; rejects tokens of other queries."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token.encode()))
        last = data["k"]
        q = data["q"]
    except Exception:
        raise PageTokenError("page_token is not a token this server issued") from None
    if q != fingerprint or not isinstance(last, list) or len(last) != n_keys:
        raise PageTokenError(
            "page_token belongs to another query (experiment, filter and order_by must not change "
            "between pages)")
    return last


__all__ = [
    "after_cursor",
    "apply_order",
    "compile_filter",
    "decode_token",
    "encode_token",
    "query_fingerprint",
    "required_metric_comparisons",
    "select",
]
