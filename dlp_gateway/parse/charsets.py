"""Decode bytes the way Japanese mail really is, not the way its labels claim (DESIGN §6).

ISO-2022-JP from Windows clients carries NEC row-13 and IBM-extension characters (①, ㈱, 髙)
that only CP50220 defines; Python's iso2022_jp codecs raise on them. We translate each JIS X 0208
byte pair to Shift_JIS arithmetically and decode with cp932, which holds those extensions.
"""

from __future__ import annotations

import codecs
import re

_SJIS_ALIASES = {
    "shift_jis",
    "shift-jis",
    "sjis",
    "x-sjis",
    "ms_kanji",
    "csshiftjis",
    "windows-31j",
    "cp932",
    "ms932",
    "x-ms-cp932",
}
_ISO2022JP_ALIASES = {
    "iso-2022-jp",
    "csiso2022jp",
    "iso2022jp",
    "iso-2022-jp-1",
    "iso-2022-jp-2",
    "iso-2022-jp-3",
    "iso-2022-jp-2004",
    "iso-2022-jp-ms",
    "cp50220",
    "cp50221",
    "cp50222",
    "jis",
}
_EUC_ALIASES = {"euc-jp", "eucjp", "x-euc-jp", "cseucpkdfmtjapanese", "euc_jp"}
_GB_ALIASES = {"gb2312", "gbk", "gb18030", "x-gbk", "csgb2312", "euc-cn"}

_SINGLE_BYTE = {"latin_1", "iso8859-1", "cp1252", "iso8859-15", "ascii"}
ESC = 0x1B


def _jis_pair_to_sjis(j1: int, j2: int) -> bytes:
    s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
    if j1 & 1:
        s2 = j2 + 0x1F
        if s2 >= 0x7F:
            s2 += 1
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))


# The fast path: Python's C iso2022_jp codec decodes plain JIS X 0208 runs; six code points differ
# from cp932's reading of the same bytes (WAVE DASH → FULLWIDTH TILDE …) and are mapped to cp932's,
# so both paths give the same text. Runs holding cp932-only pairs (row 13, IBM extensions) are
# converted pair by pair, and anything unusual (SO/SI, JIS X 0212, 8-bit bytes, odd runs) takes the
# byte-by-byte decoder below.
_TOKEN = re.compile(rb"\x1b(?:\$[B@]|\$\([QO]|\([BJHI])|[\r\n]")
_HIGH = re.compile(rb"[\x80-\xff]")
_UNUSUAL = re.compile(rb"[\x0e\x0f\x80-\xff]|\x1b\$\(D")
_JIS_RUN = re.compile(rb"(?:[\x21-\x7e]{2})*")
_KANA_RUN = re.compile(rb"[\x21-\x5f]*")
# Where Python's iso2022_jp and Windows (cp932, what Japanese mail clients mean) map a JIS X 0208 pair
# to different characters: 〜‖−¢£¬ → ～∥－￠￡￢.
_TO_CP932 = {
    "\u301c": "\uff5e",
    "\u2016": "\u2225",
    "\u2212": "\uff0d",
    "\xa2": "\uffe0",
    "\xa3": "\uffe1",
    "\xac": "\uffe2",
}


def _as_cp932(text: str) -> str:
    # str.translate looks every character up; these six rarely occur, and `in` scans in C.
    for jis, windows in _TO_CP932.items():
        if jis in text:
            text = text.replace(jis, windows)
    return text


_KANA_HIGH = bytes((b + 0x80) if 0x21 <= b <= 0x5F else b for b in range(256))


def _jis_run(run: bytes, errors: str) -> str:
    try:
        return _as_cp932((b"\x1b$B" + run).decode("iso2022_jp"))
    except UnicodeDecodeError:
        sjis = b"".join(_jis_pair_to_sjis(run[i], run[i + 1]) for i in range(0, len(run), 2))
        return sjis.decode("cp932", errors)


# What a well-behaved encoder writes: ASCII, and JIS X 0208 runs that switch back to ASCII before
# any line break. Such data decodes in one call of the C codec, which refuses a run of odd length
# ("illegal multibyte sequence" at the escape): matching the pairs here cost 4x the decoding.
# Possessive (`++`, `*+`): a run of ASCII split among the repetitions in every possible way was
# exponential backtracking when the match failed at the end (found by the fuzzer: a 325-byte
# message held a scan worker for minutes).
_WELL_FORMED = re.compile(rb"(?:[\x00-\x0d\x10-\x1a\x1c-\x7f]++|\x1b\(B|\x1b\$[B@][\x21-\x7e]*+(?=\x1b\(B))*+")


def _decode_iso2022jp_fast(data: bytes, errors: str) -> str | None:  # noqa: C901, PLR0912 - a state machine over escape sequences
    """The common case in bulk; None when the data needs the byte-by-byte decoder."""
    if _WELL_FORMED.fullmatch(data):
        try:
            return _as_cp932(data.decode("iso2022_jp"))
        except UnicodeDecodeError:
            pass  # cp932-only pairs (row 13, IBM extensions): run by run below
    if _UNUSUAL.search(data):
        return None
    out: list[str] = []
    mode, pos = "ascii", 0
    for m in [*_TOKEN.finditer(data), None]:
        chunk = data[pos : m.start() if m else len(data)]
        if chunk:
            if mode == "ascii":
                out.append(chunk.decode("ascii"))
            elif mode == "kana" and _KANA_RUN.fullmatch(chunk):
                out.append(chunk.translate(_KANA_HIGH).decode("cp932", errors))
            elif mode == "jis0208" and _JIS_RUN.fullmatch(chunk):
                out.append(_jis_run(chunk, errors))
            else:
                return None
        if m is None:
            break
        token, pos = m.group(), m.end()
        if token in (b"\r", b"\n"):
            out.append(token.decode())
            mode = "ascii" if mode != "kana" else mode
        elif token[1:2] == b"$":
            mode = "jis0208"
        else:
            mode = "kana" if token == b"\x1b(I" else "ascii"
    return "".join(out)


def decode_iso2022jp(data: bytes, errors: str = "strict") -> str:
    """ISO-2022-JP with the CP50220/CP50221 extensions, via cp932."""
    fast = _decode_iso2022jp_fast(data, errors)
    return fast if fast is not None else decode_iso2022jp_bytewise(data, errors)


def decode_iso2022jp_bytewise(data: bytes, errors: str = "strict") -> str:  # noqa: C901, PLR0912, PLR0915 - the reference state machine, kept whole to be read against RFC 1468
    """The reference decoder: every escape, SO/SI, JIS X 0212 and stray byte, one at a time."""
    out: list[str] = []
    mode = "ascii"
    pending = bytearray()  # Shift_JIS bytes of the current double-byte run
    shift_out = False

    def flush() -> None:
        if pending:
            out.append(pending.decode("cp932", errors))
            pending.clear()

    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b == ESC and i + 2 < n:
            seq = data[i + 1 : i + 3]
            if seq in (b"$B", b"$@"):
                flush()
                mode, i = "jis0208", i + 3
                continue
            if seq == b"$(" and i + 3 < n and data[i + 3] in b"DQO":
                flush()
                mode, i = ("jis0212" if data[i + 3] == 0x44 else "jis0208"), i + 4
                continue
            if seq in (b"(B", b"(J", b"(H"):
                flush()
                mode, i = "ascii", i + 3
                continue
            if seq == b"(I":
                flush()
                mode, i = "kana", i + 3
                continue
        if b in (0x0E, 0x0F):  # SO / SI: CP50221 half-width katakana
            flush()
            shift_out = b == 0x0E
            i += 1
            continue
        if b in (0x0A, 0x0D):  # a line break ends a double-byte run in practice
            flush()
            mode = "ascii" if mode != "kana" else mode
            out.append(chr(b))
            i += 1
            continue
        if mode in ("jis0208", "jis0212") and 0x21 <= b <= 0x7E and i + 1 < n and 0x21 <= data[i + 1] <= 0x7E:
            if mode == "jis0208":
                pending += _jis_pair_to_sjis(b, data[i + 1])
            else:
                flush()
                out.append(bytes((0x8F, b | 0x80, data[i + 1] | 0x80)).decode("euc_jis_2004", errors))
            i += 2
            continue
        if (mode == "kana" or shift_out) and 0x21 <= b <= 0x5F:
            pending.append(b + 0x80)
            i += 1
            continue
        flush()
        if b >= 0x80:
            # 8-bit data inside a 7-bit charset: the label lies; let the caller fall back.
            out.append(bytes((b,)).decode("ascii", errors))
        else:
            out.append(chr(b))
        i += 1
    flush()
    return "".join(out)


def codec_for(label: str | None) -> str | None:  # noqa: PLR0911 - one return per label family, read as a table
    """The codec we trust for a declared charset label, or None if Python does not know it."""
    if not label:
        return None
    low = label.strip().strip('"').lower()
    if low in _SJIS_ALIASES:
        return "cp932"
    if low in _ISO2022JP_ALIASES:
        return "iso-2022-jp-ext"
    if low in _EUC_ALIASES:
        return "euc_jis_2004"
    if low in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(low).name
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it (found by the fuzzer)
        return None


def _try(data: bytes, codec: str) -> str | None:
    try:
        if codec == "iso-2022-jp-ext":
            return decode_iso2022jp(data)
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


_UNICODE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def unicode_form(data: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) when `data` is UTF-16 or UTF-32 (or UTF-8 with a BOM): by its BOM, or
    by where the NULs of its ASCII characters fall (Excel's "Unicode text" export has a BOM;
    other programs write none)."""
    for bom, codec in _UNICODE_BOMS:
        if data.startswith(bom):  # a BOM, and the bytes after it are that form (FF FE starts cp932 too)
            whole = len(data) <= len(bom) + 4096
            return (codec, len(bom)) if _looks_like_text(data[len(bom) : len(bom) + 4096], codec, whole) else None
    sample = data[:4096]
    n = len(sample) - len(sample) % 4
    if n < 8 or sample.count(0) < n // 8:
        return None
    # ASCII in UTF-32-LE is c 0 0 0, in UTF-16-LE c 0: count the NULs at each place of the unit.
    at = [sample[i:n:4].count(0) for i in range(4)]
    units = n // 4
    for codec, places in (
        ("utf-32-le", (1, 2, 3)),
        ("utf-32-be", (0, 1, 2)),
        ("utf-16-le", (1, 3)),
        ("utf-16-be", (0, 2)),
    ):
        others = [at[p] for p in range(4) if p not in places]
        utf32 = all(at[p] >= units * 0.9 for p in places)  # ASCII is three NULs and a byte
        # (a kanji such as 一 U+4E00 puts a NUL in the other byte now and then: three to one)
        utf16 = (
            len(places) == 2
            and sum(others) * 3 <= sum(at[p] for p in places)
            and all(at[p] >= units * 0.2 for p in places)
        )
        if (utf32 or utf16) and _looks_like_text(sample[:n], codec, whole=False):
            return codec, 0
    return None


def _looks_like_text(sample: bytes, codec: str, whole: bool) -> bool:
    """Decoded, few control characters: a binary format with NULs in places is not text (it must
    stay unscannable, not be read as noise). A sample cut from a longer text may end mid-character."""
    try:
        text = codecs.getincrementaldecoder(codec)().decode(sample, final=whole)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\x0c")
    return controls <= len(text) // 100


def decode(data: bytes, label: str | None = None) -> tuple[str, str]:
    """Decode `data`, preferring the declared label when the bytes agree with it.

    Returns (text, codec used). Never raises: the last resort replaces undecodable bytes.
    """
    form = unicode_form(data)
    if form is not None:
        unicode_codec, skip = form
        return data[skip:].decode(unicode_codec, "replace"), unicode_codec
    codec = codec_for(label)
    high = _HIGH.search(data) is not None
    candidates: list[str] = []
    if not high and (b"\x1b$" in data or b"\x1b(" in data):
        # JIS escapes in 7-bit data are ISO-2022-JP whatever the label says.
        candidates.append("iso-2022-jp-ext")
    if high and codec in _SINGLE_BYTE:
        # Latin labels decode any bytes; valid multi-byte UTF-8 under one is UTF-8 mislabelled.
        candidates.append("utf-8")
    if codec and not (high and codec in ("ascii", "iso-2022-jp-ext")):
        candidates.append(codec)  # a 7-bit label over 8-bit bytes lies
    candidates += ["ascii", "utf-8", "cp932", "shift_jis_2004", "euc_jis_2004", "utf-8-damaged", "gb18030"]
    for c in dict.fromkeys(candidates):
        text = _mostly_utf8(data, codec == "utf-8") if c == "utf-8-damaged" else _try(data, c)
        if text is not None:
            return text, c
        if c == codec:
            # A truncated part (an encoded word cut mid-character) is still the declared charset:
            # keep everything before the incomplete final character rather than guess another.
            text = _truncated(data, c)
            if text is not None:
                return text, c
    return data.decode("cp932", "replace"), "cp932-replace"


def other_reading(data: bytes, chosen: str) -> str | None:
    """A second plausible reading of text whose decoding was a guess (damaged UTF-8, GB18030, or
    cp932 with replacements): UTF-8 with its damage replaced, as a mail program that assumes UTF-8
    shows it. None when the first reading was not a guess or UTF-8 makes no sense of the bytes."""
    if chosen not in ("gb18030", "cp932-replace", "utf-8-damaged"):
        return None
    text = data.decode("utf-8", "replace")
    damaged = text.count("\ufffd")
    return text if damaged * 2 <= len(text) else None


def _mostly_utf8(data: bytes, declared: bool) -> str | None:
    """UTF-8 with a few damaged bytes (a base64 line cut short, a byte flipped) is still UTF-8:
    read with the damage replaced, as mail programs do, rather than as GB18030, which takes any
    bytes and would turn the whole text into other characters. Declared UTF-8 may be damaged in a
    fifth of its characters (a short text cut mid-way); undeclared, in one in ten."""
    text = data.decode("utf-8", "replace")
    damaged = text.count("\ufffd")
    return text if damaged and damaged * (5 if declared else 10) <= len(text) else None


def _truncated(data: bytes, codec: str) -> str | None:
    if codec == "iso-2022-jp-ext":
        return None
    try:
        decoder = codecs.getincrementaldecoder(codec)()
        text = decoder.decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return None
    pending, _ = decoder.getstate()
    return text if len(pending) < 4 else None
