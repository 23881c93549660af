"""act.rewrite: To/Cc edits touch nothing but the addresses removed."""

from __future__ import annotations

import pytest

from dlp_gateway.act.rewrite import add_headers, remove_recipients

HEAD = (
    b"From: a@mirai-hoken.example.jp\r\n"
    b'To: =?UTF-8?B?5pSv5bqX?= <shiten@mirai-hoken.example.jp>, "Kimura, T" <kimura@MS-INS.com>\r\n'
    b"Cc: tanaka@sompo-japan.co.jp,\r\n (comment, with comma) other@mirai-hoken.example.jp\r\n"
    b"Subject: x\r\n"
)
BODY = b"body line 1\r\nTo: not-a-header@ms-ins.com\r\n"
RAW = HEAD + b"\r\n" + BODY


def test_strip_removes_only_those_addresses() -> None:
    out = remove_recipients(RAW, {"kimura@ms-ins.com", "TANAKA@sompo-japan.co.jp"})
    head, _, body = out.partition(b"\r\n\r\n")
    assert body == BODY  # the body, including a line that looks like a header, is untouched
    assert b"kimura" not in head
    assert b"tanaka" not in head
    assert b"To: =?UTF-8?B?5pSv5bqX?= <shiten@mirai-hoken.example.jp>\r\n" in head
    assert b"other@mirai-hoken.example.jp" in head
    assert head.startswith(b"From: a@mirai-hoken.example.jp\r\n")
    assert head.endswith(b"Subject: x")


def test_header_left_empty_is_removed_or_undisclosed() -> None:
    out = remove_recipients(
        RAW,
        {
            "shiten@mirai-hoken.example.jp",
            "kimura@ms-ins.com",
            "tanaka@sompo-japan.co.jp",
            "other@mirai-hoken.example.jp",
        },
    )
    assert b"To: undisclosed-recipients:;\r\n" in out
    assert b"Cc:" not in out


def test_nothing_to_remove_is_byte_for_byte() -> None:
    assert remove_recipients(RAW, {"nobody@example.jp"}) == RAW


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_add_headers_replaces_forged_copies(eol: bytes) -> None:
    raw = eol.join([b"X-DLP-Verdict: deliver", b"Subject: x", b"", b"body"])
    out = add_headers(raw, [("X-DLP-Verdict", "strip"), ("X-DLP-Ref", "abc")])
    assert out == eol.join([b"X-DLP-Verdict: strip", b"X-DLP-Ref: abc", b"Subject: x", b"", b"body"])
