"""observe: structured logs (and, later, metrics) that carry no customer data."""
