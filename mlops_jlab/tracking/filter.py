"""Run search language: a tokenizer and recursive-descent parser into an AST.

Grammar (keywords are case-insensitive)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | primary
    primary    := "(" expr ")" | comparison
    comparison := field op literal
                | field ["not"] "in" "(" literal ("," literal)* ")"
                | field ["not"] ("like" | "ilike") string
                | field "is" ["not"] "null"
    field      := prefix "." (name | `back quoted` | "quoted")
    prefix     := metrics | params | tags | attributes   (singular forms too)
    op         := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">="

The AST is compiled to SQLAlchemy expressions by :mod:`.query`; values always travel
as bound parameters, never as SQL text. Every error names the character position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import FilterError

PREFIXES = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}
ATTRIBUTES = {"name", "status", "user", "start_time", "end_time", "run_id", "experiment_id",
              "duration", "parent_run_id"}
COMPARISONS = {"=", "!=", "<", "<=", ">", ">="}
KEY_STOP = set("()=<>!,'\"")
KEYWORDS = {"and", "or", "not", "in", "like", "ilike", "is", "null"}
MAX_DEPTH = 32
"""How deeply parentheses and ``not`` may nest; deeper filters are refused with a
:class:`FilterError` (the parser recurses once per level, and so does the SQL the
database parses)."""
MAX_COMPARISONS = 100
"""How many comparisons one filter may hold (each becomes a subquery; SQLite refuses
very large expression trees)."""
MAX_ORDER_TERMS = 10
"""How many ``order_by`` terms one search may have (each is a join)."""
MAX_INTEGER = 2**63 - 1
"""The largest integer a filter may compare with (the database's 64-bit integers)."""

Literal = float | int | str | None


@dataclass(frozen=True)
class Field:
    """A searchable field: ``kind`` is metrics, params, tags or attributes."""

    kind: str
    key: str
    position: int

    def __str__(self) -> str:
        return f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class Comparison:
    """``field op value``; ``op`` is one of =, !=, <, <=, >, >=, like, ilike, in,
    not in, is null, is not null."""

    field: Field
    op: str
    value: Literal | tuple[Literal, ...]
    position: int


@dataclass(frozen=True)
class BoolOp:
    """``and`` / ``or`` over two or more operands."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Negation of an operand."""

    operand: Node


Node = Comparison | BoolOp | Not


@dataclass(frozen=True)
class Token:
    kind: str  # ident, field, number, string, op, lparen, rparen, comma, end
    value: str | float | int
    position: int


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens, each with its start position."""
    if not isinstance(text, str):
        raise FilterError(f"a filter is a string, not {type(text).__name__}")
    if "\x00" in text:  # PostgreSQL refuses NUL in any text value
        raise FilterError("NUL characters are not allowed", text.index("\x00"), text)
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "'\"":
            value, i = _read_quoted(text, i)
            tokens.append(Token("string", value, start))
            continue
        if c == "(":
            tokens.append(Token("lparen", c, start))
            i += 1
            continue
        if c == ")":
            tokens.append(Token("rparen", c, start))
            i += 1
            continue
        if c == ",":
            tokens.append(Token("comma", c, start))
            i += 1
            continue
        two = text[i : i + 2]
        if two in ("<=", ">=", "!=", "<>", "=="):
            tokens.append(Token("op", {"<>": "!=", "==": "="}.get(two, two), start))
            i += 2
            continue
        if c in "<>=":
            tokens.append(Token("op", c, start))
            i += 1
            continue
        if c.isdigit() or (c in "+-." and i + 1 < n and text[i + 1].isdigit()):
            value_num, i = _read_number(text, i)
            tokens.append(Token("number", value_num, start))
            continue
        if c.isalpha() or c == "_":
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            if i < n and text[i] == ".":
                key, i = _read_key(text, i + 1, start)
                tokens.append(Token("field", f"{word}\x00{key}", start))
            else:
                tokens.append(Token("ident", word, start))
            continue
        raise FilterError(f"unexpected character {c!r}", start, text)
    tokens.append(Token("end", "", n))
    return tokens


def _read_key(text: str, i: int, start: int) -> tuple[str, int]:
    """Read the key after ``prefix.``: back-quoted, quoted, or up to a space/operator."""
    if i < len(text) and text[i] == "`":
        end = text.find("`", i + 1)
        if end < 0:
            raise FilterError("unterminated back-quoted name", i, text)
        return text[i + 1 : end], end + 1
    if i < len(text) and text[i] in "'\"":
        return _read_quoted(text, i)
    j = i
    while j < len(text) and not text[j].isspace() and text[j] not in KEY_STOP:
        j += 1
    if j == i:
        raise FilterError("expected a key after '.'", i, text)
    return text[i:j], j


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    quote = text[i]
    out: list[str] = []
    j = i + 1
    while j < len(text):
        c = text[j]
        if c == "\\":
            if j + 1 >= len(text):
                break
            out.append(text[j + 1])
            j += 2
            continue
        if c == quote:
            return "".join(out), j + 1
        out.append(c)
        j += 1
    raise FilterError("unterminated string", i, text)


def _read_number(text: str, i: int) -> tuple[float | int, int]:
    j = i
    if text[j] in "+-":
        j += 1
    while j < len(text) and (text[j].isdigit() or text[j] in ".eE" or
                             (text[j] in "+-" and text[j - 1] in "eE")):
        j += 1
    raw = text[i:j]
    try:
        value: float | int = int(raw) if raw.lstrip("+-").isdigit() else float(raw)
    except ValueError:
        raise FilterError(f"malformed number {raw!r}", i, text) from None
    if (isinstance(value, int) and abs(value) > MAX_INTEGER) or \
            (isinstance(value, float) and not math.isfinite(value)):
        raise FilterError(f"number {raw!r} is out of range (integers up to 2**63-1, "
                          "finite decimals)", i, text)
    return value, j


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0
        self.comparisons = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, tok: Token | None = None) -> FilterError:
        tok = tok or self.tok
        return FilterError(message, tok.position, self.text)

    def is_kw(self, word: str, offset: int = 0) -> bool:
        tok = self.tokens[min(self.i + offset, len(self.tokens) - 1)]
        return tok.kind == "ident" and str(tok.value).lower() == word

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}, found {self._describe(self.tok)}")
        return self.advance()

    @staticmethod
    def _describe(tok: Token) -> str:
        if tok.kind == "end":
            return "end of filter"
        return repr(str(tok.value).replace("\x00", "."))

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty filter")
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.error(f"expected 'and', 'or' or end of filter, found "
                             f"{self._describe(self.tok)}")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.is_kw("or"):
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else BoolOp("or", tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.is_kw("and"):
            self.advance()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else BoolOp("and", tuple(operands))

    def parse_not(self) -> Node:
        if self.is_kw("not") or self.tok.kind == "lparen":
            if self.depth >= MAX_DEPTH:
                raise self.error(f"the filter nests parentheses and 'not' more than "
                                 f"{MAX_DEPTH} deep")
            self.depth += 1
            try:
                if self.advance().kind == "lparen":
                    node = self.parse_or()
                    self.expect("rparen", "')'")
                    return node
                return Not(self.parse_not())
            finally:
                self.depth -= 1
        return self.parse_comparison()

    def parse_field(self) -> Field:
        tok = self.tok
        if tok.kind == "field":
            self.advance()
            prefix, key = str(tok.value).split("\x00", 1)
        elif tok.kind == "ident" and str(tok.value).lower() not in KEYWORDS:
            self.advance()
            prefix, key = str(tok.value), ""
        else:
            raise self.error(f"expected a field such as metrics.<key>, found {self._describe(tok)}")
        kind = PREFIXES.get(prefix.lower())
        if kind is None:
            if prefix.lower() in ATTRIBUTES and not key:
                return Field("attributes", prefix.lower(), tok.position)
            shown = f"{prefix}.{key}" if key else prefix
            raise FilterError(
                f"unknown field {shown!r}: use metrics.<key>, params.<key>, tags.<key> "
                f"or attributes.<name>", tok.position, self.text)
        if not key:
            raise FilterError(f"{prefix!r} needs a key, e.g. {kind}.<key>", tok.position,
                              self.text)
        if kind == "attributes":
            key = key.lower()
            if key not in ATTRIBUTES:
                raise FilterError(
                    f"unknown attribute {key!r}; known: {', '.join(sorted(ATTRIBUTES))}",
                    tok.position, self.text)
        return Field(kind, key, tok.position)

    def parse_literal(self) -> Literal:
        tok = self.tok
        if tok.kind in ("number", "string"):
            self.advance()
            return tok.value
        if tok.kind == "ident" and str(tok.value).lower() in ("true", "false"):
            self.advance()
            return str(tok.value).lower()
        raise self.error(f"expected a number or a quoted string, found {self._describe(tok)}")

    def parse_comparison(self) -> Comparison:
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(f"the filter has more than {MAX_COMPARISONS} comparisons")
        field = self.parse_field()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            return Comparison(field, str(tok.value), self.parse_literal(), tok.position)
        negate = False
        if self.is_kw("is"):
            self.advance()
            if self.is_kw("not"):
                self.advance()
                negate = True
            if not self.is_kw("null"):
                raise self.error("expected 'null' after 'is'")
            self.advance()
            return Comparison(field, "is not null" if negate else "is null", None, tok.position)
        if self.is_kw("not"):
            self.advance()
            negate = True
        if self.is_kw("in"):
            self.advance()
            self.expect("lparen", "'(' after 'in'")
            values = [self.parse_literal()]
            while self.tok.kind == "comma":
                self.advance()
                values.append(self.parse_literal())
            self.expect("rparen", "')' closing the 'in' list")
            return Comparison(field, "not in" if negate else "in", tuple(values), tok.position)
        if self.is_kw("like") or self.is_kw("ilike"):
            op = str(self.advance().value).lower()
            pattern_tok = self.tok
            if pattern_tok.kind != "string":
                raise self.error(f"'{op}' needs a quoted pattern")
            self.advance()
            return Comparison(field, f"not {op}" if negate else op, pattern_tok.value,
                              tok.position)
        raise self.error(
            f"expected a comparison (=, !=, <, <=, >, >=, in, like, ilike, is null) after "
            f"{field}, found {self._describe(tok)}")


def parse(text: str) -> Node:
    """Parse a filter string; raises :class:`FilterError` with the position on bad input."""
    return _Parser(text).parse()


@dataclass(frozen=True)
class OrderTerm:
    """One ``order_by`` term."""

    field: Field
    descending: bool


def parse_order_by(clauses: str | Sequence[str] | None) -> list[OrderTerm]:
    """Parse ``["metrics.acc DESC", "attributes.start_time"]`` or a comma-separated string."""
    from ..errors import OrderByError

    if clauses is None:
        return []
    items = clauses.split(",") if isinstance(clauses, str) else list(clauses)
    terms: list[OrderTerm] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        descending = False
        lower = item.lower()
        if lower.endswith(" desc"):
            descending, item = True, item[:-5].strip()
        elif lower.endswith(" asc"):
            item = item[:-4].strip()
        try:
            parser = _Parser(item)
            field = parser.parse_field()
            if parser.tok.kind != "end":
                raise parser.error("expected ASC or DESC")
        except FilterError as exc:
            raise OrderByError(f"bad order_by term {item!r}: {exc.message}") from None
        terms.append(OrderTerm(field, descending))
        if len(terms) > MAX_ORDER_TERMS:
            raise OrderByError(f"order_by takes at most {MAX_ORDER_TERMS} terms")
    return terms
