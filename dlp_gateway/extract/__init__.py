"""extract: Message → text Segments with provenance (see dispatch.py). Kept import-light: the
document readers (openpyxl, pypdf, python-docx …) load on first use, not with the CLI."""
