"""quarantine: durable storage of held messages and the review operations on them."""
