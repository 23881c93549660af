"""console: the compliance review web console and its JSON API."""
