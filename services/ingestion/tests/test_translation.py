"""A Portuguese question's words bring their English translations, read from dictionaries in
dictd's format (as Debian ships FreeDict's); an English question is left as it is."""

import gzip
from pathlib import Path

import pytest

from ingestion_service.translation import QueryTranslator

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def write_dictionary(directory: Path, name: str, entries: dict[str, str]) -> None:
    """A dictd dictionary: entries one after another, and an index of base-64 offsets."""

    def number(value: int) -> str:
        digits = ""
        while True:
            value, digit = divmod(value, 64)
            digits = BASE64[digit] + digits
            if not value:
                return digits

    body, index = b"", ["00databaseshort\tA\tB"]
    for headword, senses in entries.items():
        entry = f"{headword} /ipa/\n{senses}\n".encode()
        index.append(f"{headword}\t{number(len(body))}\t{number(len(entry))}")
        body += entry
    (directory / f"{name}.dict.dz").write_bytes(gzip.compress(body))
    (directory / f"{name}.index").write_text("\n".join(index) + "\n")


@pytest.fixture
def translator(tmp_path: Path) -> QueryTranslator:
    write_dictionary(
        tmp_path,
        "freedict-por-eng",
        {
            "arquivo": "1. archive, files, records\n2. file",
            "esperar": "1. abide, expect, wait, await, wait for\n2. hope",
            "senha": "password",
            "medir": "measure",
            "tempo": "1. time\n2. weather",
            "a fim de": "in order to",  # a phrase: not a word to look up
        },
    )
    write_dictionary(
        tmp_path,
        "freedict-eng-por",
        {
            "queue": "1. fila, lista de espera\n2. enfileirar",
            "file": "arquivo",
            "wait": "esperar",
            "tempo": "andamento",  # a word of both languages
        },
    )
    found = QueryTranslator.from_dictionaries(tmp_path)
    assert found is not None
    return found


def test_a_portuguese_word_brings_its_first_translations_found_by_its_stem(
    translator: QueryTranslator,
) -> None:
    assert translator.english_words("listar os arquivos") == ["archive", "files", "records"]
    assert translator.english_words("esperar na fila pela senha") == [
        "abide",
        "expect",
        "wait",
        "queue",  # from the English-Portuguese side
        "password",
    ]
    # A word English has too is translated in a Portuguese question.
    assert translator.english_words("medir o tempo") == ["measure", "time", "weather"]


def test_english_words_function_words_and_words_already_asked_are_left_alone(
    translator: QueryTranslator,
) -> None:
    assert translator.english_words("wait for the file queue") == []
    assert translator.english_words("de para com") == []
    assert translator.english_words("senha password") == []  # asked already


def test_without_the_dictionaries_there_is_no_translator(tmp_path: Path) -> None:
    assert QueryTranslator.from_dictionaries(tmp_path) is None
