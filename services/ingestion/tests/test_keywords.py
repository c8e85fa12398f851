"""A query's terms for keyword search: words any of which may match, phrases and codes matched
whole, excluded words."""

from ingestion_service.keywords import MAX_TERMS, KeywordTerms, keyword_terms


def test_a_sentence_is_its_words() -> None:
    assert keyword_terms("how do I make an index without blocking writes?") == KeywordTerms(
        words=["how", "do", "I", "make", "an", "index", "without", "blocking", "writes?"]
    )


def test_phrases_and_codes_stay_whole() -> None:
    terms = keyword_terms('why "dead letter" for ERR-4417 in pg_stat_activity or v2?')
    assert terms.exact == ["dead letter", "ERR-4417", "pg_stat_activity", "v2?"]
    assert terms.words == ["why", "for", "in", "or"]


def test_a_word_after_a_minus_is_excluded() -> None:
    terms = keyword_terms("consumer lag -kafka -redis")
    assert terms == KeywordTerms(words=["consumer", "lag"], excluded=["kafka", "redis"])


def test_each_term_once_whatever_its_case() -> None:
    assert keyword_terms("Index index INDEX").words == ["Index"]


def test_nothing_to_search_for() -> None:
    assert keyword_terms('  "" -only ').empty
    assert not keyword_terms("x").empty


def test_a_pasted_paragraph_is_searched_by_its_first_terms() -> None:
    terms = keyword_terms(" ".join(f"word{n}x" for n in range(100)))
    assert len(terms.exact) == MAX_TERMS
