"""Names and values written into SQL text, quoted so that no name or value can change the
statement: a table named with a backtick, a property value with a quote."""

from __future__ import annotations


def quote_identifier(part: str) -> str:
    """``part`` as a SQL identifier (one part of a name, or a path), quoted and escaped.

    Example:
        >>> quote_identifier("orders`; DROP TABLE x; --")
        '`orders``; DROP TABLE x; --`'
    """
    return "`" + part.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """``value`` as a Spark SQL string literal (backslash escapes are on by default).

    Example:
        >>> print(quote_string("the customer's name"))
        'the customer\\'s name'
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
