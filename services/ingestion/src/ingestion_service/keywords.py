"""A search query's words, as keyword search uses them: people ask in sentences ("how do I make
an index without blocking writes"), so a chunk matches if it has *any* of the query's words and
ranks higher the more of them it has — rather than needing every word, which a sentence's
small words ("how", "do", "I") never all meet. What must stay exact stays exact: a quoted
phrase, and a code such as `ERR-4417` or `pg_stat_activity` (each matched as a whole, in
order). A word after a minus (`-kafka`) excludes the chunks that have it.

The SQL side (search.py) turns each term into a query in English, Portuguese and the simple
configuration (a query does not say its language) and drops a word that is a stop word in
English or Portuguese — "do", "como" — which would otherwise match nearly everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_TERMS = 32  # a pasted paragraph is searched by its first 32 terms
# A quoted phrase, or a run of non-space characters (perhaps after a minus).
TOKEN = re.compile(r'"([^"]*)"|(-?)([^\s"]+)')
# Letters, digits and the joiners a code is written with; a word's own punctuation is not one.
INNER_JOINER = re.compile(r"\w[-_./:#]+\w|\d")


@dataclass(frozen=True)
class KeywordTerms:
    words: list[str] = field(default_factory=list)  # any one of them matches
    exact: list[str] = field(default_factory=list)  # phrases and codes, matched whole
    excluded: list[str] = field(default_factory=list)  # a match must have none of them

    @property
    def empty(self) -> bool:
        return not (self.words or self.exact)


def keyword_terms(query: str) -> KeywordTerms:
    """The query's words, exact terms and excluded words, in the order written, each once."""
    terms = KeywordTerms()
    for phrase, minus, token in TOKEN.findall(query):
        if len(terms.words) + len(terms.exact) >= MAX_TERMS:
            break
        if phrase.strip():
            _add(terms.exact, phrase.strip())
        elif token and minus:
            _add(terms.excluded, token)
        elif token and INNER_JOINER.search(token):
            _add(terms.exact, token)
        elif token:
            _add(terms.words, token)
    return terms


def _add(terms: list[str], term: str) -> None:
    if term.lower() not in (known.lower() for known in terms):
        terms.append(term)
