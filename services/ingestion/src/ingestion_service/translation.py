"""English words for a query's Portuguese words, so that a question asked in Portuguese finds
English documents: the local embedding model knows English only, and keyword search matches a
word only in the language it is written in. No embedding model that bridges the two ships in a
package this system can install (decision 0020); a bilingual dictionary does — FreeDict's
Portuguese-English and English-Portuguese dictionaries, in dictd's format, from Debian's
`dict-freedict-por-eng` and `dict-freedict-eng-por`.

A query is translated when more of its words are Portuguese only than English only (so an
English question is left as it is, though "data" or "tempo" are words of both): a word is
Portuguese if its Portuguese stem is in the dictionaries (so "arquivos" finds "arquivo"), English
if its English stem is an English headword's. Each of its words but the function words then
brings its first few translations, added to the query for keyword and vector search alike.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import structlog
from Stemmer import Stemmer

from ingestion_service.language import ENGLISH, PORTUGUESE, WORD

log = structlog.get_logger(__name__)

PORTUGUESE_TO_ENGLISH = "freedict-por-eng"
ENGLISH_TO_PORTUGUESE = "freedict-eng-por"
TRANSLATIONS_PER_WORD = 3  # measured: 2 to 5 do about as well; more adds wrong senses
BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
SENSE_NUMBER = re.compile(r"^\d+\.\s*")
SINGLE_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Words a question is built with, whose translations ("num" is also a Latin god's name in the
# dictionary) would only add noise.
FUNCTION_WORDS = PORTUGUESE | frozenset({
    "o", "a", "e", "um", "uns", "umas", "num", "numa", "dele", "dela", "meu", "minha", "seu",
    "sua", "outro", "outra", "todo", "toda", "todos", "todas", "cada", "alguns", "algumas",
    "dentro", "quanto", "quantos", "quantas", "vez", "vezes", "fazer", "qual", "quais",
})  # fmt: skip


class QueryTranslator:
    def __init__(self, english: dict[str, list[str]], english_words: frozenset[str]) -> None:
        self._english = english  # Portuguese stem -> English words, the likeliest first
        self._stem = Stemmer("portuguese").stemWord
        self._english_stem = Stemmer("english").stemWord
        self._english_stems = frozenset(self._english_stem(word) for word in english_words)

    @classmethod
    def from_dictionaries(cls, directory: Path) -> QueryTranslator | None:
        """The translator of the dictionaries in `directory`; None if they are not there."""
        found = [
            directory / f"{name}.index" for name in (PORTUGUESE_TO_ENGLISH, ENGLISH_TO_PORTUGUESE)
        ]
        if not all(path.is_file() for path in found):
            log.warning(
                "no Portuguese-English dictionary: Portuguese questions find English documents"
                " only by the words they share",
                looked_in=str(directory),
            )
            return None
        stem = Stemmer("portuguese").stemWord
        english: dict[str, list[str]] = {}
        for portuguese, entry in _entries(directory, PORTUGUESE_TO_ENGLISH):
            english.setdefault(stem(portuguese), []).extend(_senses(entry))
        english_words = set()
        for word, entry in _entries(directory, ENGLISH_TO_PORTUGUESE):
            english_words.add(word)
            for portuguese in _senses(entry):
                english.setdefault(stem(portuguese), []).append(word)
        return cls(english, frozenset(english_words))

    def english_words(self, query: str) -> list[str]:
        """The English words for a Portuguese `query`'s words, each once, none already in it."""
        asked = WORD.findall(query.lower())
        if not self._portuguese(asked):
            return []
        added: list[str] = []
        for word in asked:
            if word in FUNCTION_WORDS:
                continue
            translations = list(dict.fromkeys(self._english.get(self._stem(word), [])))
            for translation in translations[:TRANSLATIONS_PER_WORD]:
                if translation not in asked and translation not in added:
                    added.append(translation)
        return added

    def _portuguese(self, words: list[str]) -> bool:
        portuguese = [word in FUNCTION_WORDS or self._stem(word) in self._english for word in words]
        english = [
            word in ENGLISH or self._english_stem(word) in self._english_stems for word in words
        ]
        only_portuguese = sum(p and not e for p, e in zip(portuguese, english, strict=True))
        only_english = sum(e and not p for p, e in zip(portuguese, english, strict=True))
        return only_portuguese > only_english


def _entries(directory: Path, name: str) -> Iterator[tuple[str, str]]:
    """(headword, entry text) of a dictd dictionary, single-word headwords only."""
    text = gzip.decompress((directory / f"{name}.dict.dz").read_bytes())
    for line in (directory / f"{name}.index").read_text(encoding="utf-8").splitlines():
        headword, offset, length = line.split("\t")
        if headword.startswith("00database") or not SINGLE_WORD.fullmatch(headword):
            continue
        start = _number(offset)
        yield headword.lower(), text[start : start + _number(length)].decode("utf-8")


def _senses(entry: str) -> list[str]:
    """The single-word translations of an entry, in its order (its first line is the headword
    and its pronunciation; then one line of comma-separated translations per sense)."""
    words: list[str] = []
    for line in entry.splitlines()[1:]:
        for candidate in SENSE_NUMBER.sub("", line.strip()).split(","):
            candidate = candidate.strip().lower()
            if SINGLE_WORD.fullmatch(candidate):
                words.append(candidate)
    return words


def _number(digits: str) -> int:
    """dictd's offsets and lengths: numbers written in base 64."""
    value = 0
    for digit in digits:
        value = value * 64 + BASE64.index(digit)
    return value
