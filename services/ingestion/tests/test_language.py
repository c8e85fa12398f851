"""Portuguese or English stemming when the words say so; `simple` otherwise."""

from ingestion_service.language import text_search_config


def test_the_language_follows_the_words_or_the_metadata() -> None:
    assert text_search_config("As crianças não estão em casa, e isso é para os pais.") == (
        "portuguese"
    )
    assert text_search_config("The results of the test are in the report for the team.") == (
        "english"
    )
    assert text_search_config("ERR-4417 0x1f 42") == "simple"
    assert text_search_config("The report is in the folder.", declared="pt") == "portuguese"
