"""The atheris harness's entry point accepts every corpus message and some hostile bytes."""

from __future__ import annotations

import pytest

from fuzz.fuzz_pipeline import one_input
from tests.helpers import corpus_files


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 100,
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" * 50,
        b"\x1b$B" * 500,
        b"=?UTF-8?B?" * 300,
    ],
)
def test_hostile_bytes(data: bytes) -> None:
    one_input(data)


def test_every_corpus_message() -> None:
    for path in corpus_files()[:200]:
        one_input(path.read_bytes())
