"""parse: charsets and headers as Japanese mail really carries them."""

from __future__ import annotations

import base64
import dataclasses
import email
import email.message
import email.policy
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlp_gateway.extract.dispatch import extract
from dlp_gateway.model import Unscannable, UnscannableKind
from dlp_gateway.parse import base64_runs, mime
from dlp_gateway.parse.charsets import decode, decode_iso2022jp, decode_iso2022jp_bytewise
from dlp_gateway.parse.mime import (
    _HEADER_LINE,
    decode_header_value,
    lenient_b64,
    parse_bytes,
    parse_message,
    repair_header,
    transfer_decode,
)
from dlp_gateway.pipeline import Pipeline
from tests.helpers import (
    BRANCH_A,
    HEAD_OFFICE,
    ROOT,
    b64_word,
    corpus_files,
    example_config,
    make_message,
    to_iso2022jp,
)

SAMPLES = ["山田 太郎 様", "①②③ ㈱みらい Ⅰ期", "髙橋 﨑山", "証券番号：８１２３－４５６７８９", "ｶﾀｶﾅ半角"]


@pytest.mark.parametrize("text", SAMPLES)
def test_iso2022jp_with_cp50220_extensions(text: str) -> None:
    assert decode(to_iso2022jp(text), "ISO-2022-JP") == (text, "iso-2022-jp-ext")


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        ("山田太郎①".encode("cp932"), "Shift_JIS", "山田太郎①"),  # Shift_JIS labels mean cp932
        ("山田太郎".encode("euc_jp"), "EUC-JP", "山田太郎"),
        ("山田太郎".encode(), "iso-8859-1", "山田太郎"),  # the label lies; the bytes are UTF-8
        ("山田太郎".encode("cp932"), "us-ascii", "山田太郎"),  # 8-bit bytes under a 7-bit label
        ("山田太郎".encode("cp932"), "utf-8", "山田太郎"),  # a wrong UTF-8 label
        (to_iso2022jp("山田太郎"), "utf-8", "山田太郎"),  # JIS escapes whatever the label says
        ("山田太郎".encode("cp932"), None, "山田太郎"),
        ("张伟 保单".encode("gb2312"), "gb2312", "张伟 保单"),
    ],
)
def test_labels_are_checked_against_the_bytes(data: bytes, label: str | None, expected: str) -> None:
    assert decode(data, label)[0] == expected


def test_undecodable_bytes_never_raise() -> None:
    text, codec = decode(b"\xff\xfe\xfa\x80\x81", "utf-8")
    assert codec in ("cp932-replace", "gb18030", "euc_jis_2004", "cp932")
    assert isinstance(text, str)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b64_word("満期一覧①", "ISO-2022-JP"), "満期一覧①"),
        (b64_word("満期一覧", "UTF-8"), "満期一覧"),
        (b64_word("㈱みらい", "Shift_JIS"), "㈱みらい"),
        # one encoded word per line, folded: the whitespace between them disappears
        (b64_word("満期", "UTF-8") + "\r\n " + b64_word("一覧", "UTF-8"), "満期一覧"),
        ("plain ascii subject", "plain ascii subject"),
        # raw 8-bit bytes in a header, as some clients send them
        ("満期一覧".encode().decode("ascii", "surrogateescape"), "満期一覧"),
        # no whitespace between an encoded word and plain text (not RFC 2047, sent anyway)
        ("abc" + b64_word("山田太郎"), "abc山田太郎"),
        (b64_word("山田太郎") + "様", "山田太郎様"),
        (f'"{b64_word("山田 太郎")}" <a@b.jp>', '"山田 太郎" <a@b.jp>'),
        ("=?utf-8?q?=E5=B1=B1=E7=94=B0?=", "山田"),
        # an encoded word cut mid-character keeps what is whole, in its declared charset
        ("=?UTF-8?B?5bGx55S?=", "山"),
    ],
)
def test_header_values_are_decoded(raw: str, expected: str) -> None:
    assert decode_header_value(raw) == expected


@pytest.mark.parametrize(
    ("charset", "extra"), [("UTF-8", "①㈱"), ("ISO-2022-JP", "①㈱"), ("Shift_JIS", "①㈱"), ("EUC-JP", "")]
)
def test_body_and_subject_in_each_charset(charset: str, extra: str) -> None:
    raw = make_message(f"契約者名：山田 太郎\n{extra}", subject=f"満期一覧{extra}", charset=charset)
    msg, unscannable = parse_message(raw)
    assert unscannable == ()
    assert msg.subject == f"満期一覧{extra}"
    segments, unreadable = extract(msg)
    assert unreadable == ()
    [subject, body] = segments
    assert (subject.location, subject.lines) == ("header:Subject", (f"満期一覧{extra}",))
    assert body.location == "body"
    text = "\n".join(body.lines)
    assert "契約者名：山田 太郎" in text
    assert extra in text
    assert "\ufffd" not in text


def test_attachment_we_cannot_read_is_unscannable_not_dropped() -> None:
    raw = (
        b"From: a@mirai-hoken.example.jp\r\nTo: b@ms-ins.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n'
        b"--B\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename*=UTF-8''%E6%BA%80%E6%9C%9F.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--B--\r\n"
    )
    msg, _ = parse_message(raw)
    assert [p.location for p in msg.parts] == ["body", "attachment[0]:満期.bin"]
    _, unscannable = extract(msg)
    assert unscannable[0].location == "attachment[0]:満期.bin"
    assert "application/octet-stream" in unscannable[0].reason


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "euc_jp"])
def test_raw_8bit_headers_through_the_parser(encoding: str) -> None:
    raw = "Subject: 満期一覧のご案内\r\nFrom: 本部 <a@b.jp>\r\n\r\nbody".encode(encoding)
    msg, _ = parse_message(raw)
    assert msg.subject == "満期一覧のご案内"
    assert msg.header("From") == ["本部 <a@b.jp>"]


def test_oversized_message_is_unscannable_without_parsing() -> None:
    cfg = example_config()
    cfg = dataclasses.replace(cfg, limits=dataclasses.replace(cfg.limits, max_message_size=100))
    segments, unscannable = Pipeline(cfg).read(make_message("あ" * 200))
    assert segments == ()
    assert unscannable == (Unscannable("message", UnscannableKind.LARGER, "larger than 100 bytes"),)


_PIECES = st.sampled_from(
    [b"\x1b$B", b"\x1b$@", b"\x1b(B", b"\x1b(J", b"\x1b(I", b"\x1b$(Q", b"\x1b$(D", b"\x0e", b"\x0f", b"\r\n", b"\n"]
)
_JIS_TEXT = st.text(alphabet="山田太郎様①㈱髙～－∥￠￡¬ｱｲｳabc 123", max_size=12).map(to_iso2022jp)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_PIECES, _JIS_TEXT, st.binary(max_size=6)), max_size=12))
def test_fast_iso2022jp_decoder_agrees_with_the_bytewise_one(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    for errors in ("strict", "replace"):
        try:
            expected: str | type[UnicodeDecodeError] = decode_iso2022jp_bytewise(data, errors)
        except UnicodeDecodeError:
            expected = UnicodeDecodeError
        try:
            got: str | type[UnicodeDecodeError] = decode_iso2022jp(data, errors)
        except UnicodeDecodeError:
            got = UnicodeDecodeError
        assert got == expected, data


def _shape(msg: email.message.Message) -> object:
    """Everything of a parsed message the gateway reads or rewrites."""
    payload = msg.get_payload()
    body = (
        [_shape(p) for p in payload if isinstance(p, email.message.Message)] if isinstance(payload, list) else payload
    )
    defects = [type(d).__name__ for d in msg.defects]
    return (msg.get_unixfrom(), list(msg.raw_items()), defects, body, msg.preamble, msg.epilogue, msg.is_multipart())


_EDGES = [
    b"Subject: a\r\n\r\nbody\r\n",
    b"Subject: a\n\nbody\n\n\nmore",
    b"Subject: a\r\rX: b\r\n\r\nbody",  # a lone CR ends the header earlier
    b"Subject: a\r\n\r\n",
    b"Subject: a\r\n\r\n\r\n",
    b"Subject: a\r\nno header here\r\nX: b\r\n\r\nbody",  # missing separator: the body starts earlier
    b"Subject: a\r\n folded\r\n\tagain\r\n\r\n\x1b$B$3\x1b(B\xff\xfe",
    b"From sender Mon Jan 1 00:00:00 2024\nSubject: a\n\nbody",
    b"Subject: no blank line at all\r\n",
    b"",
    b"\r\n\r\nbody only",
    b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx",
    b"Content-Type: text/plain\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
    b"Content-Type: multipart/mixed\r\n\r\nno boundary",
    b"Subject: =?ISO-2022-JP?B?GyRCJDMbKEI=?=\n\r\nbody\r",
    b": empty name\r\n\r\nbody",
    b"Subject: a\r\n \r\n\r\nbody",  # a whitespace-only continuation is not the blank line
]


def test_the_header_only_parse_gives_what_the_whole_parse_gives() -> None:
    letters = [make_message("本文\n" * 50, charset=c) for c in ("ISO-2022-JP", "UTF-8")]
    samples = _EDGES + letters + [f.read_bytes() for f in corpus_files()]
    for raw in samples:
        whole = email.message_from_bytes(raw, policy=email.policy.compat32)
        assert _shape(parse_bytes(raw)) == _shape(whole), raw[:200]


def _b64_run(n: int, eol: bytes, width: int = 76) -> bytes:
    """n lines of base64 (an attachment's), each ending in `eol`; the last maybe short, padded."""
    body = base64.b64encode(bytes(range(256)) * (n * width // 256 + 1))[: n * width]
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return b"".join(line + eol for line in [*lines[:-1], lines[-1][:-2] + b"=="])


# Fragments of mail, joined in any order: base64 runs long and short, with CRLF or LF, boundary
# lines of the outer and an inner multipart, part headers, a nested message, a delivery-status
# part, blank lines, text, a lone CR, and the word the fast parse would pick for its runs.
_FRAGMENTS = st.sampled_from(
    [
        _b64_run(70, b"\r\n"),
        _b64_run(64, b"\n"),
        _b64_run(63, b"\r\n"),
        _b64_run(100, b"\r\n", width=60),
        _b64_run(70, b"\n", width=12),  # (lines too short to be taken for a run)
        b"--outer\r\n",
        b"--outer--\r\n",
        b"--inner\r\n",
        b"--inner--\n",
        b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n",
        b'Content-Type: multipart/mixed; boundary="inner"\r\n\r\n',
        b"Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n",
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a\r\n",
        b"\r\n",
        b"\n",
        b"text of the letter\r\n",
        b"a line cut by a lone CR\r",
        b"dlpRun0q0x\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FRAGMENTS, max_size=12), st.booleans())
def test_a_multipart_with_base64_runs_parses_as_the_whole_parse(fragments: list[bytes], blank: bool) -> None:
    """parse_whole (base64 runs read in one step) against email.message_from_bytes itself."""
    head = b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="outer"\r\n' + (b"\r\n" if blank else b"")
    raw = head + b"".join(fragments)
    whole = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert _shape(parse_bytes(raw)) == _shape(whole)


def test_an_attachments_base64_is_not_walked_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The feed parser is handed one line for a run of base64, and the payload is the run."""
    run = _b64_run(2000, b"\r\n")
    raw = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
        b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n" + run + b"--b--\r\n"
    )
    fed: list[int] = []
    whole = email.message_from_bytes

    def counted(data: bytes, **kw: object) -> email.message.Message:
        fed.append(data.count(b"\n"))
        return whole(data, **kw)

    monkeypatch.setattr(email, "message_from_bytes", counted)
    msg = parse_bytes(raw)
    assert fed and fed[0] < 20  # (one parse, of a dozen lines)
    attachment = msg.get_payload(1)
    assert isinstance(attachment, email.message.Message) and attachment.get_payload() == run[:-2].decode()


def test_a_word_not_found_again_sends_the_message_to_the_whole_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """The net under the fast parse: were a run's word put anywhere but a payload, preamble or
    epilogue (none is known), fewer words come back and the message is parsed whole."""
    raw = b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n' + _b64_run(80, b"\r\n") + b"--b--\r\n"
    monkeypatch.setattr(base64_runs, "_restore", lambda msg, words: len(words) - 1)
    assert _shape(parse_bytes(raw)) == _shape(email.message_from_bytes(raw, policy=email.policy.compat32))
    assert "dlpRun" not in str(parse_bytes(raw))


def test_a_single_part_message_is_not_parsed_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(raw: bytes, **_: object) -> email.message.Message:
        raise AssertionError("parsed whole")

    monkeypatch.setattr(email, "message_from_bytes", whole)
    assert parse_bytes(make_message("本文\n" * 50)).get_payload()
    with pytest.raises(AssertionError, match="parsed whole"):
        parse_bytes(b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n")


def test_a_failing_well_formedness_match_does_not_backtrack_exponentially() -> None:
    """Found by the fuzzer: ASCII, then a JIS run cut by a space, and no return to ASCII. The
    decoding runs in a child process that must finish within the bound (exponential
    backtracking took minutes at 300 bytes; the input here is 20 times that)."""
    data = b"x" * 6000 + b"\x1b$B$9$_ er\x1b(sB\n"
    code = (
        "import sys; from dlp_gateway.parse.charsets import decode; "
        "sys.stdout.write(decode(sys.stdin.buffer.read(), 'iso-2022-jp')[1])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], input=data, capture_output=True, timeout=30, check=True, cwd=ROOT
    )
    assert done.stdout  # a codec was chosen: the decoding finished


def test_a_charset_name_with_a_nul_is_read_not_raised() -> None:
    """Found by the fuzzer: the email package raised ValueError reading this part's payload."""
    raw = (
        b"From: a@example.com\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="ks_c_5601-nt\xadTransfer-Encoding: \x01\x00\x00C8bit\r\n\r\n'
        b"\xbd\xba\xc6\xbc\xc7\xd8\r\n"
    )
    message, problems = parse_message(raw)
    assert [p.payload for p in message.parts] == [b"\xbd\xba\xc6\xbc\xc7\xd8\r\n"] and problems == ()


def test_an_encoded_word_whose_charset_has_a_nul_is_read_not_raised() -> None:
    """Found by the fuzzer: codecs.lookup raised ValueError on the label."""
    message, _ = parse_message(b"Subject: =?ut\x00f-8?B?5rqA5pyf?=\r\n\r\nbody\r\n")
    assert message.subject and message.parts


def test_a_single_part_header_with_a_nul_charset_is_read_not_raised() -> None:
    """Found by the fuzzer: parse_bytes' fast path asked get_payload(), which looked the label up."""
    raw = (
        b"Delivered-To: unknown@exae: Wed, 28 May 2014 17:18:1ple.com>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: text/plain; charset="ks_c_56ten\xf4\xadTransfer-Encoding: \x01\x00\x00\x00\x00\x00\x00C8bit\r\n'
        b"\r\x00\xff\xff\xff\xf7C8bit\r\n\r\n\xbd\xba\xc6\xbc\xc7\xd8\r\n"
    )
    message, _ = parse_message(raw)
    assert len(message.parts) == 1 and message.parts[0].payload.endswith(b"\xbd\xba\xc6\xbc\xc7\xd8\r\n")


def test_the_fuzzers_findings_get_a_verdict_in_bounded_time() -> None:
    """Inputs the fuzzer found hanging or crashing the scan (tests/fuzz_regressions): each scanned
    in a child process that must finish within the bound (a mended header mended again doubled
    the readings at every level: 2^20 parses)."""
    code = (
        "import sys; from pathlib import Path; sys.argv = ['x']; import fuzz.fuzz_pipeline as f; "
        "[f.one_input(p.read_bytes()) for p in sorted(Path('tests/fuzz_regressions').iterdir())]; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "ok"


def _repair_header_by_definition(text: str) -> list[str]:
    """repair_header as first written: for every line, search the rest of the header (quadratic)."""
    lines = text.split("\n")
    head_end = next((i for i, line in enumerate(lines) if not line.strip("\r")), len(lines))
    stray = [
        i
        for i in range(head_end)
        if not (lines[i][:1] in (" ", "\t") and i > 0)
        and not _HEADER_LINE.match(lines[i])
        and any(_HEADER_LINE.match(later) for later in lines[i + 1 : head_end])
    ]
    if not stray:
        return []
    folded = [(" " + line if i in stray and i > 0 else line) for i, line in enumerate(lines) if i > 0 or 0 not in stray]
    dropped = [line for i, line in enumerate(lines) if i not in stray]
    return list(dict.fromkeys("\n".join(v) for v in (folded, dropped)))


@settings(max_examples=500)
@given(
    st.lists(
        st.sampled_from(
            ["From: a@b.jp", "Subject: x", ' name="a.csv"', "\tmore", "Subjec", "5rqA5pym", "", "--b1", ":x"]
        ),
        max_size=12,
    ).map("\n".join)
)
def test_the_header_mending_is_its_definition_in_one_pass(text: str) -> None:
    assert repair_header(text + "\n\nbody") == _repair_header_by_definition(text + "\n\nbody")


def test_a_header_of_many_stray_lines_is_mended_in_bounded_time(tmp_path: Path) -> None:
    """The fuzzer's slowest input: a subject's base64 broken into 3,600 unfolded lines before the
    next header took 21 s to mend (a search after every line). 30,000 such lines, in a child
    process that must finish within the bound."""
    stray = "\r\n".join("5rqA5pym5LiA6KTXOfX+E1EQjw0Ly4vNj9Kc8W4r6ysr7Gyucn" for _ in range(30_000))
    raw = f"From: {HEAD_OFFICE}\r\nSubject: =?UTF-8?B?\r\n{stray}\r\nTo: {BRANCH_A}\r\n\r\nbody\r\n".encode()
    (tmp_path / "many-stray-lines.eml").write_bytes(raw)
    code = (
        "import sys; from pathlib import Path; sys.argv = ['x']; import fuzz.fuzz_pipeline as f; "
        f"f.one_input(Path({str(tmp_path / 'many-stray-lines.eml')!r}).read_bytes()); print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "ok"


def _part(cte: str, body: bytes) -> email.message.Message:
    return email.message_from_bytes(
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: " + cte.encode() + b"\r\n\r\n" + body,
        policy=email.policy.compat32,
    )


@given(st.binary(max_size=400), st.sampled_from([b"\n", b"\r\n"]))
def test_sound_base64_has_one_reading_padded_or_not(payload: bytes, eol: bytes) -> None:
    """The standard library's encoder is the oracle: what it writes (76-character lines, `=`
    padding) is sound, decodes to the payload, and is not read a second time line by line."""
    body = base64.encodebytes(payload).replace(b"\n", eol)
    assert transfer_decode(_part("base64", body)) == (payload, None)


@given(st.binary(min_size=1, max_size=200))
def test_lenient_base64_drops_what_the_alphabet_does_not_hold(junk: bytes) -> None:
    """The one-pass drop equals the definition: every byte outside [A-Za-z0-9+/] removed."""
    text = base64.b64encode(b"\x00\xff" * 20) + junk
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    usable = len(clean) - len(clean) % 4
    expected = base64.b64decode(clean[:usable]) if usable else b""
    if len(clean) - usable >= 2:
        expected += base64.b64decode(clean[usable:] + b"=" * (4 - len(clean) + usable))
    assert lenient_b64(text) == expected


_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@settings(max_examples=500)
@given(st.lists(st.sampled_from(list(_ALPHABET)), max_size=300).map(bytes))
def test_the_simd_decoder_reads_any_groups_as_the_standard_library(text: bytes) -> None:
    """Whole groups go to pybase64, the rest to the standard library: any characters of the
    alphabet, in any order (bits past the last byte included), decode as base64.b64decode does."""
    usable = len(text) - len(text) % 4
    expected = base64.b64decode(text[:usable])
    if len(text) - usable >= 2:
        expected += base64.b64decode(text[usable:] + b"=" * (4 - len(text) + usable))
    assert lenient_b64(text) == expected


def test_damaged_base64_is_still_read_both_ways() -> None:
    """Padding inside the stream (two encodings glued), or a line cut short: two readings."""
    glued = base64.encodebytes("契約者名：山田 ".encode()) + base64.encodebytes("証券番号".encode())
    assert b"==\n" in glued
    stream, by_line = transfer_decode(_part("base64", glued))
    assert by_line == "契約者名：山田 証券番号".encode()
    assert stream != by_line
    cut = base64.encodebytes("満期一覧を送付します".encode() * 4)
    lines = cut.split(b"\n")
    lines[0] = lines[0][:-1]
    assert transfer_decode(_part("base64", b"\n".join(lines)))[1] is not None


# The pattern _damaged_b64 used before bytes.translate told it: base64 of the alphabet and white
# space, then at most two padding characters and white space only.
_SOUND_B64 = re.compile(rb"[A-Za-z0-9+/\s]*=?=?\s*")


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from([bytes([c]) for c in b"AQz09+/= \r\n\t\x0b\x0c-*\x00\xff"]), max_size=24).map(b"".join))
def test_base64_soundness_is_the_patterns(text: bytes) -> None:
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    damaged = _SOUND_B64.fullmatch(text) is None or (len(clean) + text.count(b"=")) % 4 != 0
    assert mime._damaged_b64(text, clean) == damaged
