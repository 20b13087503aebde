"""The words of a SQL pipeline file: statements split at their semicolons, configuration
values substituted for ``${key}``, and tokens that remember where they were written.

Only what the pipeline statements around a query need is told apart here (words, strings,
quoted identifiers, brackets and punctuation); the queries themselves go to Spark's parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lakehouse.engine.errors import GraphError
from lakehouse.engine.graph.elements import SourceLocation

_SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Token:
    """One word, literal or punctuation mark; ``start``/``end`` index the statement's text.

    ``kind`` is ``word`` (keywords, names and numbers), ``string`` ('..' or ".."),
    ``quoted`` (a `backticked` name) or ``punct``.
    """

    kind: str
    text: str
    start: int
    end: int

    @property
    def value(self) -> str:
        """A string literal's or quoted name's content; a word as written."""
        if self.kind in ("string", "quoted"):
            body = self.text[1:-1]
            if self.kind == "quoted":
                return body.replace("``", "`")
            return re.sub(r"\\(.)", r"\1", body)
        return self.text

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Statement:
    """One statement of a SQL file: its text (configuration substituted), its tokens, and
    where in the file it starts, for messages."""

    text: str
    tokens: tuple[Token, ...]
    file: str
    line: int
    column: int

    def location(self, offset: int = 0) -> SourceLocation:
        """The file, line and column of a character of ``text`` (its first by default)."""
        line = self.line + self.text.count("\n", 0, offset)
        before = self.text.rfind("\n", 0, offset)
        column = offset - before if before >= 0 else self.column + offset
        return SourceLocation(self.file, line, column)

    def error(self, message: str, offset: int = 0) -> GraphError:
        """A graph error placed at ``offset``, quoting the statement's first line."""
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return GraphError(f"{message}\n  in: {first[:120]}", self.location(offset))


def split_statements(source: str, file: str) -> list[tuple[str, int, int]]:
    """The statements of ``source`` as (text, line, column), comments and blank ones left
    out, split at semicolons outside strings, names and comments.

    Example:
        >>> split_statements("SET a = 1;\\n-- note\\nCREATE VIEW v AS SELECT ';'", "f.sql")
        [('SET a = 1', 1, 1), ("CREATE VIEW v AS SELECT ';'", 3, 1)]
    """
    statements: list[tuple[str, int, int]] = []
    current: list[Token] = []
    for token in [*scan(source, file), Token("punct", ";", len(source), len(source))]:
        if token.kind != "punct" or token.text != ";":
            current.append(token)
        elif current:  # from its first token to its last: comments around it left out
            first = current[0].start
            line = source.count("\n", 0, first) + 1
            column = first - source.rfind("\n", 0, first)
            statements.append((source[first : current[-1].end], line, column))
            current = []
    return statements


def tokenize(
    text: str,
    file: str,
    line: int,
    column: int,
    lookup: Callable[[str], str | None] = lambda key: None,
) -> Statement:
    """``text`` with ``${key}`` replaced by ``lookup(key)``, as a tokenized ``Statement``.

    Example:
        >>> tokenize("SELECT '${x}'", "f.sql", 1, 1, {"x": "y"}.get).tokens[1].value
        'y'
    """

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        value = lookup(key)
        if value is None:
            at = Statement(text, (), file, line, column)
            raise at.error(
                f"${{{key}}} is not set: add it to the pipeline's configuration or SET it "
                "before this statement",
                match.start(),
            )
        return value

    substituted = _SUBSTITUTION.sub(substitute, text)
    return Statement(substituted, tuple(scan(substituted, file, line, column)), file, line, column)


_WORD = re.compile(r"[A-Za-z0-9_$]+(?:\.[0-9]+)?")


def scan(text: str, file: str = "", line: int = 1, column: int = 1) -> list[Token]:
    """The tokens of ``text``, comments left out; an unclosed string or comment is a
    ``GraphError`` placed at ``file``, ``line`` and ``column`` (where ``text`` starts).

    Example:
        >>> [t.text for t in scan("SELECT `a b`, 'x' -- note")]
        ['SELECT', '`a b`', ',', "'x'"]
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            i = _comment_end(text, i, file, line, column)
        elif char in "'\"`":
            end = _quote_end(text, i, file, line, column)
            tokens.append(Token("quoted" if char == "`" else "string", text[i:end], i, end))
            i = end
        elif match := _WORD.match(text, i):
            tokens.append(Token("word", match.group(), i, match.end()))
            i = match.end()
        else:
            tokens.append(Token("punct", char, i, i + 1))
            i += 1
    return tokens


def _comment_end(text: str, i: int, file: str, line: int, column: int) -> int:
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    raise Statement(text, (), file, line, column).error("comment not closed (*/)", i)


def _quote_end(text: str, i: int, file: str, line: int, column: int) -> int:
    quote, j = text[i], i + 1
    while j < len(text):
        if text[j] == "\\" and quote != "`":
            j += 2
        elif text[j] == quote:
            if quote == "`" and text.startswith("``", j):
                j += 2
                continue
            return j + 1
        else:
            j += 1
    what = "name" if quote == "`" else "string"
    raise Statement(text, (), file, line, column).error(f"{what} not closed ({quote})", i)


def split_top_level(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, str]]:
    """The comma-separated items of ``text[start:end]``, stripped, with their offsets; commas
    inside brackets (type brackets too: ``MAP<STRING, INT>``) and quotes are left alone.

    Example:
        >>> split_top_level("a MAP<STRING, INT>, b DECIMAL(10, 2), c STRING COMMENT 'x, y'")
        [(0, 'a MAP<STRING, INT>'), (20, 'b DECIMAL(10, 2)'), (38, "c STRING COMMENT 'x, y'")]
    """
    end = len(text) if end is None else end
    items, depth, angles, quote, begin = [], 0, 0, "", start
    i = start
    while i < end:
        char = text[i]
        if quote:
            if char == "\\" and quote != "`":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"`":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "<" and depth == 0 and text[i - 1 : i].isalnum():
            angles += 1
        elif char == ">" and angles > 0:
            angles -= 1
        elif char == "," and depth == 0 and angles == 0:
            items.append((begin, text[begin:i]))
            begin = i + 1
        i += 1
    items.append((begin, text[begin:end]))
    return [(s + len(item) - len(item.lstrip()), item.strip()) for s, item in items]


def unquote(text: str) -> str:
    """``text`` without the quotes around it, if it has them.

    Example:
        >>> unquote(" 'silver' "), unquote("true")
        ('silver', 'true')
    """
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text
