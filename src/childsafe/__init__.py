"""childsafe: a child-safety layer for AI services that children use.

Public API::

    from childsafe import Engine, load_config, check
    engine = Engine.from_config(load_config())
    decision = engine.check("how do I stop being bullied?", age=11)
"""

from childsafe.config import Config, load_config
from childsafe.engine import ConversationMonitor, Engine, check
from childsafe.types import Action, AgeBand, Category, Decision, Detection, Message, Role, Span

__all__ = [
    "Action",
    "AgeBand",
    "Category",
    "Config",
    "ConversationMonitor",
    "Decision",
    "Detection",
    "Engine",
    "Message",
    "Role",
    "Span",
    "check",
    "load_config",
]
__version__ = "0.1.0"
