"""parse: raw bytes → Message (decoded headers, leaf parts as text)."""
