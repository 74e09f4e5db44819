"""The childsafe gateway: an OpenAI-compatible safety proxy and moderation API (``childsafe serve``)."""

from childsafe.gateway.app import create_app

__all__ = ["create_app"]
