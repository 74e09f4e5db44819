"""Per-conversation state and risk across messages."""

from childsafe.conversation.tracker import ConversationTracker

__all__ = ["ConversationTracker"]
