"""A minimal Compound File Binary writer (MS-CFB, version 3), for Outlook .msg fixtures: extract-msg
reads .msg files but nothing on PyPI writes them. Every stream is small (< 4096 bytes), so all of
them live in the mini stream; the directory is a chain of right siblings (readers look names up,
they do not rely on the red-black balance)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI = 64
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF


@dataclass
class Node:
    name: str
    data: bytes | None = None  # None: a storage
    children: list[Node] = field(default_factory=list)


def _entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    raw = name.encode("utf-16-le") + b"\x00\x00"
    return (
        raw.ljust(64, b"\x00")
        + struct.pack("<HBB", len(raw), kind, 1)
        + struct.pack("<III", left, right, child)
        + bytes(16 + 4 + 16)
        + struct.pack("<IQ", start, size)
    )


def build(root_children: list[Node]) -> bytes:
    entries: list[tuple[Node, int]] = []  # (node, kind) in directory order

    def number(nodes: list[Node]) -> None:
        for node in nodes:
            entries.append((node, 1 if node.data is None else 2))
            number(node.children)

    root = Node("Root Entry", None, root_children)
    entries.append((root, 5))
    number(root_children)
    index = {id(node): i for i, (node, _) in enumerate(entries)}

    mini = bytearray()
    minifat: list[int] = []
    starts: dict[int, int] = {}
    for node, kind in entries:
        if kind == 2 and node.data:
            first = len(mini) // MINI
            count = -(-len(node.data) // MINI)
            starts[id(node)] = first
            minifat += [first + i + 1 for i in range(count - 1)] + [END]
            mini += node.data.ljust(count * MINI, b"\x00")

    def sectors(n: int) -> int:
        return -(-n // SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(minifat) * 4)
    n_mini = sectors(len(mini))
    dir_start, minifat_start, mini_start = 1, 1 + n_dir, 1 + n_dir + n_minifat
    fat = [FATSECT]
    for start, count in ((dir_start, n_dir), (minifat_start, n_minifat), (mini_start, n_mini)):
        fat += [start + i + 1 for i in range(count - 1)] + ([END] if count else [])
    assert len(fat) <= SECTOR // 4, "fixture too large for one FAT sector"

    directory = bytearray()
    for node, kind in entries:
        siblings = node.children
        child = index[id(siblings[0])] if siblings else NOSTREAM
        right = NOSTREAM
        for parent, _ in entries:  # the next sibling in the parent's list
            if any(c is node for c in parent.children):
                pos = next(i for i, c in enumerate(parent.children) if c is node)
                right = index[id(parent.children[pos + 1])] if pos + 1 < len(parent.children) else NOSTREAM
        if kind == 5:
            directory += _entry(node.name, 5, NOSTREAM, NOSTREAM, child, mini_start if mini else END, len(mini))
        elif kind == 1:
            directory += _entry(node.name, 1, NOSTREAM, right, child, 0, 0)
        else:
            data = node.data or b""
            directory += _entry(node.name, 2, NOSTREAM, right, NOSTREAM, starts.get(id(node), END), len(data))
    directory = directory.ljust(n_dir * SECTOR, b"\x00")
    for i in range(len(entries), n_dir * 4):  # unused entries: empty, no siblings
        directory[i * 128 + 66 : i * 128 + 80] = bytes(2) + struct.pack("<III", NOSTREAM, NOSTREAM, NOSTREAM)

    header = (
        bytes.fromhex("d0cf11e0a1b11ae1")
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, dir_start, 0, 4096, minifat_start if minifat else END, n_minifat, END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", FREE) * 108
    )
    fat_sector = b"".join(struct.pack("<I", v) for v in fat).ljust(SECTOR, b"\xff")
    minifat_bytes = b"".join(struct.pack("<I", v) for v in minifat).ljust(n_minifat * SECTOR, b"\xff")
    return header + fat_sector + bytes(directory) + minifat_bytes + bytes(mini).ljust(n_mini * SECTOR, b"\x00")


def _unicode(tag: str, text: str) -> Node:
    return Node(f"__substg1.0_{tag}001F", text.encode("utf-16-le"))


def msg_bytes(subject: str, body: str, attachments: list[tuple[str, bytes]]) -> bytes:
    """An Outlook item (IPM.Note) with a subject, a plain body and attachments by value."""
    top_props = struct.pack("<8sIIII8s", bytes(8), 0, len(attachments), 0, len(attachments), bytes(8))
    children = [
        Node("__properties_version1.0", top_props),
        _unicode("001A", "IPM.Note"),
        _unicode("0037", subject),
        _unicode("1000", body),
        _unicode("0C1A", "本社"),
        Node(
            "__nameid_version1.0",
            None,
            [Node("__substg1.0_00020102", b""), Node("__substg1.0_00030102", b""), Node("__substg1.0_00040102", b"")],
        ),
    ]
    for n, (name, data) in enumerate(attachments):
        method = struct.pack("<IIQ", 0x37050003, 6, 1)  # PR_ATTACH_METHOD = ATTACH_BY_VALUE
        children.append(
            Node(
                f"__attach_version1.0_#{n:08X}",
                None,
                [
                    Node("__properties_version1.0", bytes(8) + method),
                    _unicode("3707", name),
                    _unicode("3704", name),
                    Node("__substg1.0_37010102", data),
                ],
            )
        )
    return build(children)
