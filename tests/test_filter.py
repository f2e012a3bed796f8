import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_jlab.errors import FilterError, OrderByError
from mlops_jlab.tracking.filter import (
    MAX_DEPTH,
    BoolOp,
    Comparison,
    Not,
    parse,
    parse_order_by,
)


def test_parses_comparisons_and_precedence():
    node = parse("metrics.acc > 0.9 and params.model = 'rf' or tags.t like 'a%'")
    assert isinstance(node, BoolOp) and node.op == "or"
    left = node.operands[0]
    assert isinstance(left, BoolOp) and left.op == "and"
    acc = left.operands[0]
    assert isinstance(acc, Comparison)
    assert (acc.field.kind, acc.field.key, acc.op, acc.value) == ("metrics", "acc", ">", 0.9)


def test_parentheses_not_in_like_null_and_backquotes():
    node = parse("not (metrics.`val loss` <= 1e-3 or attributes.status in ('failed', 'killed'))"
                 " and params.x is not null and tags.note not ilike \"%WIP%\"")
    assert isinstance(node, BoolOp) and node.op == "and"
    neg = node.operands[0]
    assert isinstance(neg, Not)
    inner = neg.operand
    assert isinstance(inner, BoolOp)
    loss, status = inner.operands
    assert loss.field.key == "val loss" and loss.value == 0.001
    assert status.op == "in" and status.value == ("failed", "killed")
    assert node.operands[1].op == "is not null"
    assert node.operands[2].op == "not ilike" and node.operands[2].value == "%WIP%"


def test_keys_may_hold_slashes_dashes_and_dots():
    node = parse("metrics.val/loss-1 < 2 and params.model.depth = 3")
    assert [c.field.key for c in node.operands] == ["val/loss-1", "model.depth"]


def test_string_escapes():
    node = parse(r"params.p = 'it\'s \\ here'")
    assert node.value == "it's \\ here"


@pytest.mark.parametrize(("text", "position", "fragment"), [
    ("metrics > 1", 0, "needs a key"),
    ("metrics.acc >", 13, "expected a number"),
    ("foo.bar = 1", 0, "unknown field"),
    ("metrics.acc = 1 and", 19, "expected a field"),
    ("params.a = 'x", 11, "unterminated string"),
    ("attributes.nope = 1", 0, "unknown attribute"),
    ("(metrics.a > 1", 14, "expected ')'"),
    ("metrics.a > 1 metrics.b > 2", 14, "expected 'and', 'or'"),
    ("metrics.a ~ 1", 10, "unexpected character"),
    ("", 0, "empty filter"),
    ("params.a in ()", 13, "expected a number or a quoted string"),
])
def test_errors_point_at_the_position(text, position, fragment):
    with pytest.raises(FilterError) as info:
        parse(text)
    assert info.value.position == position
    assert fragment in info.value.message
    assert str(info.value).splitlines()[-1] == " " * position + "^"


@pytest.mark.parametrize("text", [
    "(" * 400 + "metrics.a > 1" + ")" * 400,
    "not " * 300 + "metrics.a > 1",
    "(not " * 200 + "metrics.a > 1" + ")" * 200,
])
def test_deep_nesting_is_a_filter_error_naming_the_limit_and_position(text):
    with pytest.raises(FilterError) as info:
        parse(text)
    assert f"more than {MAX_DEPTH} deep" in info.value.message
    assert info.value.position is not None and 0 < info.value.position < len(text)
    assert f"position {info.value.position}" in info.value.message


def test_nesting_up_to_the_limit_parses():
    text = "(" * (MAX_DEPTH - 1) + "not metrics.a > 1" + ")" * (MAX_DEPTH - 1)
    node = parse(text)
    assert isinstance(node, Not) and node.operand.field.key == "a"


def test_order_by():
    terms = parse_order_by("metrics.acc DESC, start_time")
    assert [(str(t.field), t.descending) for t in terms] == [
        ("metrics.acc", True), ("attributes.start_time", False)]
    with pytest.raises(OrderByError):
        parse_order_by(["metrics.acc sideways"])
    with pytest.raises(OrderByError):
        parse_order_by(["bogus.x"])


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\x00"), max_size=40))
def test_any_quoted_string_round_trips(value):  # NUL is refused (see tests/test_security.py)
    node = parse(f"params.p = {_quote(value)}")
    assert node.value == value


@settings(max_examples=300)
@given(st.text(max_size=30))
def test_garbage_raises_filter_error_or_parses(text):
    try:
        parse(text)
    except FilterError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(text)
