"""What a part really is, from its bytes first and its labels second: an .xlsx is often sent as
application/octet-stream, and a label never makes us skip content we could read."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from dlp_gateway.parse.charsets import unicode_form

_EXT = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".eml": "eml",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".docx": "docx",
    ".pptx": "pptx",
    ".ods": "ods",
    ".odt": "odt",
    ".odp": "odp",
    ".pdf": "pdf",
    ".zip": "zip",
    ".gz": "gzip",
    ".tgz": "gzip",
    ".tar": "tar",
    ".7z": "7z",
    ".lzh": "lzh",
    ".lha": "lzh",
    ".msg": "msg",
    ".json": "text",
    ".rtf": "rtf",
    ".vcf": "directory",
    ".ics": "directory",
    ".vcs": "directory",
    ".xml": "text",
}
_TYPES = {
    "text/plain": "text",
    "text/html": "html",
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "message/rfc822": "eml",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "application/vnd.ms-excel": "xls",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "text/vcard": "directory",
    "text/x-vcard": "directory",
    "text/directory": "directory",
    "text/calendar": "directory",
}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_IMAGES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*", b"RIFF")


def _ole_kind(data: bytes) -> str:
    # Encrypted OOXML (.xlsx/.docx with a password) is an OLE container holding these streams.
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        return "encrypted"
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    if "__substg1.0_".encode("utf-16-le") in data:  # an Outlook item (.msg): MAPI property streams
        return "msg"
    return "ole"


def _zip_kind(data: bytes) -> str:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "zip"  # let the archive reader report what is wrong
    if "mimetype" in names:  # ODF: the package's first member names its kind
        try:
            mimetype = zipfile.ZipFile(io.BytesIO(data)).read("mimetype")[:100]
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, NotImplementedError):
            mimetype = b""
        for suffix, kind in ((b"spreadsheet", "ods"), (b"text", "odt"), (b"presentation", "odp")):
            if mimetype.startswith(b"application/vnd.oasis.opendocument." + suffix):
                return kind
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    return "zip"


# Parts that carry no text a person wrote: signatures, sound, video. Like images, they are not read
# and not counted as unscannable (an S/MIME-signed mail must not be held for its signature).
_NO_TEXT_TYPES = (
    "application/pkcs7-signature",
    "application/x-pkcs7-signature",
    "application/pgp-signature",
    "application/pgp-keys",
)
_ENCRYPTED_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime", "application/pgp-encrypted")


def _pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]


def _lzh(data: bytes) -> bool:
    return data[2:5] in (b"-lh", b"-lz") and data[6:7] == b"-"


def _rtf(data: bytes) -> bool:
    return data[:6] == b"{\\rtf1" or data[:5] == b"{\\rtf"


def _directory(data: bytes) -> bool:
    start = data.lstrip()
    return start[:15].upper() in (b"BEGIN:VCARD\r\nV", b"BEGIN:VCALENDAR") or start[:11].upper() == b"BEGIN:VCARD"


# Magic numbers, in the order they are tried; the first that holds names the content.
_SIGNATURES: tuple[tuple[Callable[[bytes], bool], Callable[[bytes], str]], ...] = (
    (lambda d: d[:8].startswith((b"PK\x03\x04", b"PK\x05\x06")), _zip_kind),
    (lambda d: d[:8].startswith(_OLE), _ole_kind),
    (_pdf, lambda _: "pdf"),
    (lambda d: d.startswith(b"\x1f\x8b"), lambda _: "gzip"),
    (lambda d: d.startswith(b"7z\xbc\xaf\x27\x1c"), lambda _: "7z"),
    (lambda d: d.startswith(b"\x78\x9f\x3e\x22"), lambda _: "tnef"),  # winmail.dat: 0x223E9F78
    (lambda d: d.startswith((b"Rar!\x1a\x07", b"MSCF", b"\x60\xea")), lambda _: "archive"),  # RAR, CAB, ARJ
    (lambda d: d[257:262] == b"ustar", lambda _: "tar"),
    (_lzh, lambda _: "lzh"),
)


def _by_label(data: bytes, content_type: str, filename: str | None) -> str:
    """No signature: the labels, checked against what the bytes look like."""
    ext = filename[filename.rfind(".") :].lower() if filename and "." in filename else ""
    by_label = _EXT.get(ext) or _TYPES.get(content_type)
    if by_label in ("text", "html", "csv", "eml", "rtf", "directory"):
        return by_label
    if unicode_form(data) is not None:  # UTF-16/32 text: NULs everywhere, but text
        return by_label or "text"
    if content_type.startswith("text/"):
        return "html" if "html" in content_type else "text"
    # Unlabelled or mislabelled: text if it looks like text (few control bytes).
    sample = data[:4096]
    controls = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0D, 0x1B, 0x0C))
    return by_label or ("text" if controls <= len(sample) // 100 else "binary")


def sniff(data: bytes, content_type: str, filename: str | None) -> str:  # noqa: PLR0911 - one return per verdict, in the order they are tried
    """One of: text html csv eml rtf directory xlsx xls ods docx pptx odt odp pdf zip gzip tar 7z lzh
    archive tnef msg encrypted ole image media binary empty."""
    if not data.strip():
        return "empty"
    if content_type in _ENCRYPTED_TYPES or data.lstrip()[:27] == b"-----BEGIN PGP MESSAGE-----":
        return "encrypted"
    if content_type in _NO_TEXT_TYPES or content_type.startswith(("audio/", "video/")):
        return "media"
    kind = next((name(data) for holds, name in _SIGNATURES if holds(data)), None)
    if kind is not None:
        return kind
    if data[:8].startswith(_IMAGES) or content_type.startswith("image/"):
        return "image"
    if _rtf(data):
        return "rtf"
    if _directory(data):
        return "directory"
    return _by_label(data, content_type, filename)
