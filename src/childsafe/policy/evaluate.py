"""The pure policy function: detections + age band + role -> Decision. No I/O, no detectors, no store."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from childsafe.policy.schema import Fusion, Policy, Rule
from childsafe.types import Action, AgeBand, Category, Decision, Detection, Role

UNAVAILABLE_REASON = "safety check unavailable"
_EPS = 1e-4


PROBABILITY_MODELS: frozenset[str] = frozenset({"classifier", "grooming_text"})
"""Detectors whose score is a model probability: the fusion reads their log-odds."""


def category_scores(detections: Iterable[Detection], fusion: Fusion | None = None) -> dict[Category, float]:
    """Every category's risk score: the highest score any detection gave it (0.0 when none), or, with
    ``fusion``, the fitted combination of the known detectors (see :class:`Fusion`)."""
    dets = list(detections)
    scores = dict.fromkeys(Category, 0.0)
    for d in dets:
        if d.score > scores[d.category]:
            scores[d.category] = d.score
    if fusion is None:
        return scores
    best: dict[tuple[str, Category], float] = {}
    for d in dets:
        key = (d.detector, d.category)
        best[key] = max(best.get(key, 0.0), d.score)
    known = set(fusion.weights) | set(fusion.present)
    for own in fusion.category_weights.values():
        known |= set(own)
    fused: dict[Category, float] = {}
    for c in Category:
        z = fusion.bias[c]
        own_weights = fusion.category_weights.get(c)
        weights = own_weights if own_weights is not None else fusion.weights
        for name, w in weights.items():
            f = best.get((name, c), 0.0)
            if name in PROBABILITY_MODELS:
                f = min(max(f, _EPS), 1 - _EPS)
                f = math.log(f / (1 - f))
            z += w * f
        for name, w in fusion.present.items() if own_weights is None else ():
            if best.get((name, c), 0.0) > 0.0:
                z += w
        p = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        # detectors the fusion does not know (plugins) keep their own score
        others = [s for (name, cat), s in best.items() if cat is c and name not in known]
        others += [s for (name, cat), s in best.items() if cat is c and fusion.floors(name, cat, s)]
        models = [n for n in weights if n in PROBABILITY_MODELS]
        if models and not any((n, c) in best for n in models):
            fused[c] = scores[c]  # no model score (classifier disabled): the fitted weights do not apply
        else:
            fused[c] = max([p, *others])
    return fused


def decide(
    policy: Policy,
    detections: list[Detection],
    age_band: AgeBand,
    role: Role,
    context: Mapping[str, Any] | None = None,
) -> Decision:
    """Apply ``policy`` to ``detections`` for a message written by ``role`` to/for a child in ``age_band``.

    ``context`` may carry ``errors`` (detector names that failed): the decision then fails closed.
    """
    context = context or {}
    scores = category_scores(detections, policy.fusion)
    fired: list[tuple[Rule, float]] = []
    for rule in policy.rules:
        score = scores[rule.category]
        if score > 0.0 and score >= rule.min_score and rule.applies(age_band, role):
            fired.append((rule, score))

    per_category: dict[Category, tuple[Action, Rule]] = {}
    for rule, _ in fired:
        current = per_category.get(rule.category)
        if current is None or rule.action.severity > current[0].severity:
            per_category[rule.category] = (rule.action, rule)

    flagged = [c for c in Category if c in per_category and per_category[c][0] is not Action.ALLOW]
    actions = [per_category[c][0] for c in flagged]
    action = Action.most_severe(actions)
    rules = [per_category[c][1].id for c in flagged]
    reasons = []
    for c in flagged:
        act, rule = per_category[c]
        reasons.append(rule.reason or f"{c.value} score {scores[c]:.2f} >= {rule.min_score:.2f} ({act.value})")

    errors = [str(e) for e in context.get("errors", ())]
    if errors:
        # Fail closed: content whose check did not complete never goes through.
        if action.severity < Action.BLOCK.severity:
            action = Action.BLOCK
        reasons.insert(0, f"{UNAVAILABLE_REASON}: {', '.join(sorted(set(errors)))}")
        rules.insert(0, "engine.fail_closed")

    return Decision(
        action=action,
        categories=flagged,
        scores=scores,
        reasons=reasons,
        rules=rules,
        policy_version=policy.version,
        age_band=age_band,
        role=role,
        detections=list(detections),
    )


RISK_SIGNAL = 0.3
"""A category score at or above this counts as a risk signal for a message in an unsupported language."""

_ROUTE_ACTIONS = {"warn": Action.WARN, "review": Action.ESCALATE, "block": Action.BLOCK}


def route_unsupported_language(decision: Decision, language: str, supported: bool, mode: str) -> Decision:
    """Raise the action for a message in a language childsafe has no detection for.

    At the child bands, when any category scores ``RISK_SIGNAL`` or more, the action becomes at least ``mode``'s
    (``warn``, ``review`` = escalate to a person, ``block``); ``allow`` leaves the policy's decision as it is.
    What is not covered is never allowed silently when something looked wrong."""
    if supported or mode not in _ROUTE_ACTIONS or decision.age_band is AgeBand.ADULT:
        return decision
    risky = [(c, s) for c, s in decision.scores.items() if s >= RISK_SIGNAL]
    if not risky:
        return decision
    target = _ROUTE_ACTIONS[mode]
    if decision.action.severity >= target.severity:
        return decision
    category, score = max(risky, key=lambda cs: cs[1])
    return replace(
        decision,
        action=target,
        categories=decision.categories if category in decision.categories else [*decision.categories, category],
        rules=[*decision.rules, f"language.unsupported.{mode}"],
        reasons=[
            *decision.reasons,
            f"language {language!r} has no detection built and {category.value} scored {score:.2f}: {mode}",
        ],
    )
