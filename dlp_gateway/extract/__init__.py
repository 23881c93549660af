"""extract: Message → text Segments with provenance (see dispatch.py). Kept import-light: the
document readers (calamine, PDFium, python-docx …) load on first use, not with the CLI."""
