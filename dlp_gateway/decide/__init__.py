"""decide: records × recipients × rules → Decision."""

from dlp_gateway.decide.engine import decide
from dlp_gateway.decide.parties import PartyClassifier

__all__ = ["PartyClassifier", "decide"]
