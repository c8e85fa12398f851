"""Which PostgreSQL text search configuration a document's chunks are indexed with: Portuguese
or English stemming when its words say so (or its metadata names it), else `simple`."""

import re

PORTUGUESE = frozenset({
    "de", "que", "não", "para", "uma", "com", "os", "as", "do", "da", "em", "é", "um", "no",
    "na", "por", "mais", "dos", "das", "se", "ao", "como", "ou", "são", "também", "pelo",
    "pela", "nos", "isso", "está",
})  # fmt: skip
ENGLISH = frozenset({
    "the", "and", "of", "to", "is", "in", "that", "it", "for", "with", "as", "on", "are",
    "was", "be", "this", "by", "or", "from", "which", "have", "not",
})  # fmt: skip
NAMED = {"pt": "portuguese", "pt-br": "portuguese", "portuguese": "portuguese",
         "en": "english", "english": "english"}  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")  # letters only, in any script


def text_search_config(text: str, declared: object = None) -> str:
    if isinstance(declared, str) and declared.lower() in NAMED:
        return NAMED[declared.lower()]
    words = WORD.findall(text[:20_000].lower())
    portuguese = sum(word in PORTUGUESE for word in words)
    english = sum(word in ENGLISH for word in words)
    if max(portuguese, english) < 3:
        return "simple"
    return "portuguese" if portuguese > english else "english"
