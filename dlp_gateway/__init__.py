"""dlp-gateway: an outbound SMTP data-loss-prevention gateway for Japanese insurance agencies."""

__version__ = "0.1.0"
