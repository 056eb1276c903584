"""Loads grammars/symc.lark, the single source of the spec syntax, into one cached LALR parser."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark
from lark.lark import PostLex
from lark.lexer import PatternStr

GRAMMAR_PATH = Path(__file__).resolve().parents[2] / "grammars" / "symc.lark"


class _WholeWords(PostLex):
    """Offers WORD to the lexer in every parser state.

    Keywords are strings that lark folds into WORD, so with WORD always on offer a word is always read
    whole: `imagee` is an unknown word (a clear error with a suggestion), never `image` followed by `e`.
    """

    always_accept = ("WORD",)

    def process(self, stream):
        return stream


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_WholeWords(),
        propagate_positions=True,
        maybe_placeholders=True,
    )


@lru_cache(maxsize=1)
def keywords() -> dict[str, str]:
    """Terminal name -> keyword, for every keyword of the grammar (spelled as there; they match in any case)."""
    return {t.name: t.pattern.value for t in parser().terminals if isinstance(t.pattern, PatternStr)}


@lru_cache(maxsize=None)
def next_terminals(prefix: str) -> frozenset[str]:
    """Names of the terminals that may follow `prefix` (a valid start of a spec), separators left out."""
    state = parser().parse_interactive(prefix)
    state.exhaust_lexer()
    return frozenset(name for name in state.choices() if name.isupper() and not name.startswith("_"))


def clause_starts() -> frozenset[str]:
    """Names of the terminals that may begin a clause."""
    return next_terminals("")
