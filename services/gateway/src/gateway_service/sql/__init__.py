"""The gateway's hand-written SQL, one statement per file, each read once."""

from pathlib import Path


def statement(name: str) -> str:
    """The text of `<name>.sql`, beside this module."""
    return (Path(__file__).parent / f"{name}.sql").read_text()
