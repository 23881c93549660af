"""extract: Message → text Segments with provenance."""
