"""Read YAML (one file or a directory of files) and merge it, remembering which file gave each key.

Errors then name the file and the key path as the administrator wrote them: the third rule of
`20-rules.yaml` is `20-rules.yaml: rules[2]`, not the merged list's index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dlp_gateway.errors import ConfigError

MERGED_MAPPINGS = {"insurers"}
MERGED_LISTS = {"rules", "secondees", "approvers"}


class Source:
    """Merged raw YAML plus where each piece came from, for error messages."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origin: dict[tuple[str, Any], str] = {}
        self.local: dict[tuple[str, int], int] = {}  # merged list index → index within its own file
        self.problems: list[str] = []

    def file_of(self, path: tuple[Any, ...]) -> str:
        if len(path) >= 2 and (path[0], path[1]) in self.origin:
            return self.origin[(path[0], path[1])]
        return self.origin.get((path[0], None), "?") if path else "?"

    def error(self, path: tuple[Any, ...], problem: str) -> None:
        where = self.file_of(path)
        if len(path) > 1 and (path[0], path[1]) in self.local:
            path = (path[0], self.local[(path[0], path[1])], *path[2:])  # "rules[0]" of that file
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.problems.append(f"{where}: {key or '(top level)'}: {problem}")

    def merge(self, name: str, doc: Any) -> None:
        if doc is None:
            return
        if not isinstance(doc, dict):
            self.problems.append(f"{name}: (top level): expected a mapping of keys")
            return
        for key, value in doc.items():
            if key in MERGED_LISTS and isinstance(value, list):
                base = len(self.data.setdefault(key, []))
                self.data[key].extend(value)
                self.origin.setdefault((key, None), name)
                for i in range(len(value)):
                    self.origin[(key, base + i)] = name
                    self.local[(key, base + i)] = i
            elif key in MERGED_MAPPINGS and isinstance(value, dict):
                target = self.data.setdefault(key, {})
                self.origin.setdefault((key, None), name)
                for sub, subval in value.items():
                    if sub in target:
                        first = self.origin[(key, sub)]
                        self.problems.append(f"{name}: {key}.{sub}: already defined in {first}")
                        continue
                    target[sub] = subval
                    self.origin[(key, sub)] = name
            elif key in self.data:
                first = self.origin[(key, None)]
                self.problems.append(f"{name}: {key}: already defined in {first}")
            else:
                self.data[key] = value
                self.origin[(key, None)] = name


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_files(path: Path) -> Source:
    src = Source()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ConfigError([f"{path}: no .yaml or .yml files in this directory"])
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError([f"{path}: no such file or directory"])
    for f in files:
        try:
            docs = list(yaml.load_all(f.read_text(encoding="utf-8"), Loader=_StrictLoader))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            src.problems.append(f"{f}: (YAML syntax): {exc}".replace("\n", " "))
            continue
        for doc in docs:
            src.merge(str(f), doc)
    return src
