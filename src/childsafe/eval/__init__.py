"""Evaluation: metrics, peers, reports (``childsafe eval``)."""
