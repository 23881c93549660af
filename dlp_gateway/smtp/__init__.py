"""smtp: the thin adapters — aiosmtpd in, aiosmtplib (or the local outbox) out."""
