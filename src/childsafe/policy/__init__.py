"""Policy: data (YAML rule tables) evaluated by a pure function."""

from childsafe.policy.evaluate import UNAVAILABLE_REASON, category_scores, decide
from childsafe.policy.schema import Policy, Rule, load_policy, parse_policy

__all__ = ["UNAVAILABLE_REASON", "Policy", "Rule", "category_scores", "decide", "load_policy", "parse_policy"]
