"""Chunks fit the model, overlap a little, keep their section, and lose no text."""

import itertools

from ingestion_service.chunking import chunk
from ingestion_service.parsing import Section


def words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


def test_chunks_fit_overlap_and_cover_every_word() -> None:
    paragraphs = [" ".join(f"p{p}w{w}" for w in range(30)) for p in range(20)]
    section = Section("Guide > Install", "\n\n".join(paragraphs))
    chunks = chunk([section], words, max_tokens=100, overlap=30)
    assert len(chunks) > 1
    assert all(c.tokens <= 100 for c in chunks)
    assert all(c.section == "Guide > Install" for c in chunks)
    covered = {word for c in chunks for word in c.text.split()}
    assert covered == set(section.text.split())
    for before, after in itertools.pairwise(chunks):
        assert set(before.text.split()) & set(after.text.split())  # overlap
        assert after.start > before.start  # and always forward


def test_a_paragraph_too_long_is_cut_at_sentences_then_words() -> None:
    sentence = " ".join(["word"] * 40) + ". "
    chunks = chunk([Section(None, sentence * 10)], words, max_tokens=50, overlap=0)
    assert all(c.tokens <= 50 for c in chunks)
    assert sum(c.tokens for c in chunks) == 400
    one_word = chunk([Section(None, "x" * 10_000)], lambda ts: [len(t) // 100 for t in ts], 50, 0)
    assert "".join(c.text for c in one_word) == "x" * 10_000


def test_offsets_point_into_the_joined_text_and_pages_are_kept() -> None:
    sections = [Section(None, "first page text", 1), Section(None, "second page text", 2)]
    chunks = chunk(sections, words, max_tokens=100, overlap=0)
    joined = "\n\n".join(s.text for s in sections)
    assert [joined[c.start : c.end] for c in chunks] == ["first page text", "second page text"]
    assert [c.page for c in chunks] == [1, 2]
    assert chunks[0].embedded_text == "first page text"
