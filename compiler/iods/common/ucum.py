"""UCUM unit expressions (Unified Code for Units of Measure, PS3.16 "UCUM" coding scheme): syntax check.

The grammar is UCUM's (version 2.2, section 2.1 "Syntax rules" and its BNF, Exhibit 1):

    main-term   ::= "/" term | term
    term        ::= component (("." | "/") component)*
    component   ::= annotatable annotation? | annotation | factor | "(" term ")"
    annotatable ::= simple-unit exponent?
    simple-unit ::= ATOM | PREFIX metric-ATOM
    factor      ::= digits                       (an annotation may follow: "1{c}", UCUM functional tests)
    exponent    ::= ("+" | "-")? digits
    annotation  ::= "{" characters 33-126 except curly braces "}"          (section 6)

Two readings the BNF leaves out, both from the text: an integer raised to a signed power is a unit
(section 9: "2+10 means 2^10", so ``10-3.mm2/s`` is 10^-3 mm2/s); no exponent after ")" (section 10,
stricken in revision 1.9) and no prefix before "(". One DICOM usage beyond UCUM is accepted: an
annotation directly in front of a unit (``{SUVbw}g/ml``, PS3.16 CID 85).

The symbols are UCUM's own tables (``ucum_atoms``, generated from ucum-essence.xml by
tools/ucum_tables.py): prefixes go only on metric units. Only syntax and symbols are checked, not
dimensions or conversions.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .ucum_atoms import BASE_UNITS, METRIC_UNITS, NON_METRIC_UNITS, PREFIXES

#: atom -> whether it is metric (takes a prefix)
_ATOMS = dict.fromkeys(BASE_UNITS + METRIC_UNITS, True) | dict.fromkeys(NON_METRIC_UNITS, False)
_EXPONENT = re.compile(r"^(.*?)([+-]?\d+)$")
_DIGITS = re.compile(r"^\d+$")
_POWER_OF_INTEGER = re.compile(r"^\d+[+-]\d+$")


class UcumSyntaxError(ValueError):
    """The text is not a UCUM expression; the message says where and why."""


def _simple_unit(symbol: str) -> bool:
    if symbol in _ATOMS:
        return True
    return any(symbol.startswith(p) and _ATOMS.get(symbol[len(p) :]) is True for p in PREFIXES)


def _unknown(chunk: str) -> str:
    """Why ``chunk`` is not a simple unit, with the likely mistake."""
    base = _EXPONENT.match(chunk)
    symbol = base.group(1) if base and base.group(1) else chunk
    for prefix in PREFIXES:
        rest = symbol[len(prefix) :]
        if symbol.startswith(prefix) and _ATOMS.get(rest) is False:
            return f"{rest!r} is not metric and takes no prefix ({chunk!r})"
    if re.fullmatch(r"\[\d+\].*", symbol):
        return f"a number in brackets is no UCUM unit ({chunk!r}): write the factor in parentheses, e.g. ml/(100.g)/min"
    if len(symbol) > 1 and f"[{symbol}]" in _ATOMS:
        return f"unknown unit symbol {chunk!r} (UCUM writes [{symbol}])"
    return f"unknown unit symbol {chunk!r}"


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> UcumSyntaxError:
        return UcumSyntaxError(f"{self.text!r} is not a UCUM unit: {why} (at character {self.pos + 1})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def main(self) -> None:
        if not self.text:
            raise self.fail("empty unit (use '1' for no unit)")
        if self.peek() == "/":
            self.pos += 1
        self.term()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")

    def term(self) -> None:
        self.component()
        while self.peek() in (".", "/") and self.peek():
            self.pos += 1
            self.component()

    def annotation(self) -> None:
        end = self.text.find("}", self.pos)
        if end < 0:
            raise self.fail("annotation '{' is not closed")
        body = self.text[self.pos + 1 : end]
        if "{" in body or any(not 33 <= ord(ch) <= 126 for ch in body.replace(" ", "!")):
            raise self.fail("annotations hold printable ASCII characters except braces")
        self.pos = end + 1

    def component(self) -> None:
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            self.term()
            if self.peek() != ")":
                raise self.fail("'(' is not closed")
            self.pos += 1
            return
        if ch == "{":
            self.annotation()
            if self.peek() in ("", ".", "/", ")"):
                return  # a stand-alone annotation counts as unity
        start = self.pos
        depth = 0
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth == 0 and c in "./(){":
                break
            self.pos += 1
        chunk = self.text[start : self.pos]
        if not chunk:
            raise self.fail("a unit is missing")
        if depth:
            raise self.fail("'[' is not closed")
        if not _DIGITS.match(chunk) and not _POWER_OF_INTEGER.match(chunk) and not _simple_unit(chunk):
            match = _EXPONENT.match(chunk)
            if not (match and match.group(1) and _simple_unit(match.group(1))):
                self.pos = start
                raise self.fail(_unknown(chunk))
        if self.peek() == "{":
            self.annotation()


@lru_cache(maxsize=256)
def check_ucum(text: str) -> str:
    """``text`` if it is a syntactically valid UCUM expression, else :class:`UcumSyntaxError`.

    >>> check_ucum("um2/s")
    'um2/s'
    >>> check_ucum("mL/(min.g)")
    'mL/(min.g)'
    """
    if not isinstance(text, str):
        raise UcumSyntaxError(f"a UCUM unit is a string, not {type(text).__name__}")
    if any(ch.isspace() for ch in text):
        raise UcumSyntaxError(f"{text!r} is not a UCUM unit: UCUM expressions contain no spaces")
    _Parser(text).main()
    return text


def is_ucum(text: str) -> bool:
    """Whether ``text`` is a syntactically valid UCUM expression."""
    try:
        check_ucum(text)
    except UcumSyntaxError:
        return False
    return True
