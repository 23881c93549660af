"""detect: Segments → Findings, one detector per module; detectors.py runs them all."""
