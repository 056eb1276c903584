"""Lark's parse errors retold as SpecErrors: what is wrong in plain words, where, and a likely fix."""
from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .errors import SpecError, closest
from .grammar import clause_starts, keywords, next_terminals

DOMAIN_WORDS = "image, volume, sequence, set, point cloud, graph"
ANY_CLAUSE = ("a symmetry, an output or a hint (such as 'rotation 4', 'invariant output 10' "
              "or 'depth 4')")
# How to name the terminals that are not keywords.
TERMINAL_WORDS = {
    "NUMBER": "a number",
    "SHAPE": "a shape such as 1x28x28",
    "CYCLIC": "C<N>",
    "DIHEDRAL": "D<N>",
    "IRREP": "an irrep such as 1x1o or 2e",
    "_SEP": "the end of the clause",        # a separator or the end of the spec, whichever the user writes
    "$END": "the end of the clause",
}
# Where any domain or any symmetry may come, name the kind rather than list twenty keywords. The texts are spec
# beginnings after which exactly those may follow.
KINDS = {
    "domain:": f"a domain ({DOMAIN_WORDS})",
    "image; C4 x": "a symmetry (such as 'rotation 4', 'D4', 'flip' or 'E(3)')",
}
NOTHING_BEFORE = re.compile(r"(?:[\s;]|#[^\n]*)*")      # only separators and comments
# Characters that look like the language's own, as word processors and other keyboards type them.
LOOKALIKES = {
    "\u00d7": "write 'x' for products and shapes", "\uff1b": "write ';' (this one is full-width)",
    "\uff0c": "write ',' (this one is full-width)", "\uff1a": "write ':' (this one is full-width)",
    "\uff08": "write '(' (this one is full-width)", "\uff09": "write ')' (this one is full-width)",
    "\u00a0": "a no-break space: write a plain space", "\u200b": "an invisible zero-width space: delete it",
    "\ufeff": "an invisible byte-order mark: delete it", "\u2028": "a Unicode line separator: write a new line",
    "\u2029": "a Unicode paragraph separator: write a new line",
}
EXPONENT = re.compile(r"[0-9]+(?:\.[0-9]*)?e\+?[0-9]{1,2}", re.IGNORECASE)


def syntax_error(error: UnexpectedInput, text: str) -> SpecError:
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text)
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, text)
    # An LALR parser raises only the two above; this keeps the promise that bad text gives a SpecError.
    return SpecError(f"cannot read the spec: {error}", max(1, error.line), max(1, error.column), text)


def _unexpected_character(error: UnexpectedCharacters, text: str) -> SpecError:
    position = error.pos_in_stream
    char = text[position]
    if char == "-" and text[position + 1:position + 2].isdigit():
        return SpecError(f"negative number in '{_clause_at(text, position)}': sizes and counts are at least 1",
                         error.line, error.column, text)
    advice = LOOKALIKES.get(char, "specs are words, numbers and the marks ; , ( ) : and #")
    return SpecError(f"unexpected character {char!r} in '{_clause_at(text, position)}': {advice}",
                     error.line, error.column, text)


def _unexpected_token(error: UnexpectedToken, text: str) -> SpecError:
    token = error.token
    # What the parser state accepts: `error.expected` is what the contextual lexer tried, which leaves out
    # keywords when the token is a separator (`image; C4 x; ...` would list C<N> and D<N> alone).
    parser_state = getattr(error, "interactive_parser", None)
    accepted = parser_state.choices() if parser_state is not None else error.expected
    expected = {name for name in accepted if name in keywords() or name in TERMINAL_WORDS}
    at_clause_start = clause_starts() <= expected
    if token.type == "$END" and at_clause_start:    # the grammar needs a clause only when none came yet
        return SpecError("the spec is empty: it needs at least a domain, such as 'image 1x28x28'", 1, 1, text)
    if token.type in ("$END", "_SEP"):
        position = token.end_pos if token.type == "$END" else token.start_pos
        comment = text.find("#", text.rfind("\n", 0, position) + 1, position)
        if comment >= 0:        # `rotation # why` ends before the comment
            position = comment
        while position > 0 and text[position - 1] in " \t\r\f\v":   # right after the clause's last word (a
            position -= 1                                             # "\r" of "\r\n" is no part of the line)
        clause = _clause_at(text, position)
        return SpecError(f"'{clause}' is incomplete: expected {_describe(expected)}", *_line_column(text, position),
                         text)

    word = str(token)
    if token.type == "WORD" and word.lower() in _clause_words() and "_SEP" in expected:
        message = f"missing ';' or a new line before '{word}'"
    elif at_clause_start and NOTHING_BEFORE.fullmatch(text, 0, token.start_pos):
        message = f"{_what(token)}: a spec starts with a domain ({DOMAIN_WORDS})"
    elif at_clause_start:
        message = f"{_what(token)}: expected {ANY_CLAUSE}"
    else:
        clause = _clause_at(text, token.start_pos)
        message = f"{_what(token)} in '{clause}': expected {_describe(expected)}"
    lookalike = next((c for c in text[token.end_pos:token.end_pos + 1] if c in LOOKALIKES), None)
    if lookalike:       # `image 1×28×28`: the number is fine, the character after it is the problem
        message += f" ({lookalike!r} after it: {LOOKALIKES[lookalike]})"
    suggestion = _suggest(word, expected) if token.type == "WORD" and not word[0].isdigit() else None
    if token.type == "WORD" and "NUMBER" in expected and EXPONENT.fullmatch(word):
        suggestion = _written_out(word)     # `params 1e5`: the grammar has no exponents
    return SpecError(message, token.line, token.column, text, suggestion)


def _clause_words() -> set[str]:
    return {keywords()[name].lower() for name in clause_starts() if name in keywords()}


def _lower_keywords() -> set[str]:
    return {word.lower() for word in keywords().values()}


def _what(token) -> str:
    word = str(token)
    if token.type in ("NUMBER", "SHAPE") or re.fullmatch(r"[0-9.]+[km]?", word, re.IGNORECASE):
        return f"unexpected number {word}"
    if token.type == "WORD" and word.lower() not in _lower_keywords():
        return f"unknown word '{word}'"
    if word.isalnum():
        return f"'{word}' cannot come here"
    return f"unexpected '{word}'"


def _describe(expected: set[str]) -> str:
    """`'a', 'b' or a number`: keywords first, in order, then the kinds of clause, then other kinds of token."""
    expected = set(expected)
    kinds = []
    for prefix, kind in KINDS.items():
        if next_terminals(prefix) <= expected:
            expected -= next_terminals(prefix)
            kinds.append(kind)
    words = sorted((f"'{keywords()[name]}'" for name in expected if name in keywords()), key=str.lower)
    words += kinds
    words += dict.fromkeys(TERMINAL_WORDS[name] for name in TERMINAL_WORDS if name in expected)
    if len(words) <= 1:
        return words[0] if words else "something else"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _suggest(word: str, expected: set[str]) -> str | None:
    """The expected keyword the word is most likely a typo of (two edits allowed from four letters on).

    One-letter keywords (`x`, `E`, `O`) are left out: nearly any short word is one edit away from them.
    """
    candidates = [keyword for keyword in (keywords().get(name, "") for name in expected)
                  if keyword.isalnum() and len(keyword) > 1]
    limit = 1 if len(word) < 4 else 2 if len(word) < 12 else 3
    return closest(word, candidates, max_distance=limit)


def _written_out(word: str) -> str | None:
    """`1e5` as the grammar spells it ('100k'), when it is a whole number."""
    from decimal import Decimal
    value = Decimal(word)
    if value != value.to_integral_value() or value >= 10 ** 12:
        return None
    value = int(value)
    for suffix, size in (("M", 10 ** 6), ("k", 10 ** 3)):
        if value >= size and value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def _clause_at(text: str, position: int) -> str:
    """The clause around `position`: from the previous separator to the next separator or comment."""
    start = max(text.rfind(";", 0, position), text.rfind("\n", 0, position)) + 1
    ends = [i for i in (text.find(c, start) for c in ";\n#") if i >= 0]
    return " ".join(text[start:min(ends, default=len(text))].split())   # tabs and runs of spaces as one space


def _line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of `position`, counting lines at "\n" only, as the parser does."""
    return text.count("\n", 0, position) + 1, position - (text.rfind("\n", 0, position) + 1) + 1
