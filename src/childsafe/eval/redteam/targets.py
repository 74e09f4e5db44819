"""What the suites run against: the guard itself, or an OpenAI-compatible chat endpoint end to end.

A target turns conversations into :class:`Verdict` s. The two targets answer different questions:

* ``GuardTarget`` asks *did childsafe flag it?* It runs the engine directly: a single message with
  ``Engine.check_batch``, a conversation through a ``ConversationMonitor`` (the same path the gateway uses).
  The verdict's action is the most severe action over the conversation's messages.
* ``HttpTarget`` asks *did unsafe content reach the child?* It sends the child's messages as ``user``
  turns to ``POST {url}/chat/completions`` (typically the childsafe gateway in front of a model) and judges
  what came back: the gateway's ``childsafe`` object gives its action; a reply the gateway let through is
  checked with a local guard (as an assistant message) to decide whether unsafe content reached the child
  (when the gateway stopped the content, the child sees the gateway's own explanation instead). A plain model
  endpoint without a ``childsafe`` object is judged by the reply alone. Messages written by a contact or
  the assistant are sent as earlier ``assistant`` turns (a chat endpoint has no other place for them), and a
  conversation without a child message cannot be sent: its verdict is ``None`` (not applicable).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from childsafe.engine import Engine
from childsafe.types import Action, AgeBand, Category, ChildsafeError, Message, Role

_FAIL_CLOSED = "engine.fail_closed"
_RETRIES = 4


def _retry_after(header: str | None, attempt: int) -> float:
    try:
        return min(30.0, max(0.0, float(header))) if header else min(30.0, 0.5 * (1 << attempt))
    except ValueError:
        return min(30.0, 0.5 * (1 << attempt))


@contextmanager
def quiet_engine_logs() -> Iterator[None]:
    logger = logging.getLogger("childsafe.engine")
    before = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


class TargetError(ChildsafeError):
    """The target cannot be used (unreachable, refuses every request); the message says why."""


@dataclass(slots=True)
class Verdict:
    """What happened to one conversation."""

    action: Action
    categories: list[str] = field(default_factory=list)
    first_flag_index: int | None = None
    """Index of the first message (after transforms) at which the conversation was no longer allowed."""
    reached: bool | None = None
    """End to end only: unsafe content was delivered to the child."""
    error: str | None = None
    failed_closed: bool = False
    """The engine could not complete a check (a detector or the tracker unavailable) and blocked for that."""

    @property
    def only_failed_closed(self) -> bool:
        """Not allowed only because a check failed: no category was flagged."""
        return self.failed_closed and not self.categories

    @property
    def detected(self) -> bool:
        """Flagged on the content (a fail-closed block with no flagged category is not a detection)."""
        return self.action is not Action.ALLOW and not self.only_failed_closed

    @property
    def stopped(self) -> bool:
        return self.action.stops_content and not self.only_failed_closed


class Target(Protocol):
    name: str
    end_to_end: bool

    def evaluate(self, conversations: Sequence[tuple[Message, ...]], age: AgeBand) -> list[Verdict | None]:
        """One verdict per conversation (None when the conversation cannot be sent to this target)."""
        ...

    def describe(self) -> dict[str, Any]: ...


class GuardTarget:
    """The childsafe engine, called directly."""

    name = "guard"
    end_to_end = False

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> dict[str, Any]:
        health = self.engine.health()
        return {
            "target": "guard",
            "detectors": health["detectors"],
            "unavailable": health["unavailable"],
            "policy_version": health["policy_version"],
        }

    def evaluate(self, conversations: Sequence[tuple[Message, ...]], age: AgeBand) -> list[Verdict | None]:
        # A failing component logs one warning per message; the verdicts count them (failed_closed) instead.
        with quiet_engine_logs():
            return self._evaluate(conversations, age)

    def _evaluate(self, conversations: Sequence[tuple[Message, ...]], age: AgeBand) -> list[Verdict | None]:
        out: list[Verdict | None] = [None] * len(conversations)
        singles: dict[Role, list[int]] = {}
        for i, conv in enumerate(conversations):
            if len(conv) == 1:
                singles.setdefault(conv[0].role, []).append(i)
            else:
                out[i] = self._conversation(conv, age)
        for role, idx in singles.items():
            decisions = self.engine.check_batch([conversations[i][0].text for i in idx], age=age, role=role)
            for i, d in zip(idx, decisions, strict=True):
                out[i] = Verdict(
                    d.action,
                    [c.value for c in d.categories],
                    None if d.action is Action.ALLOW else 0,
                    failed_closed=_FAIL_CLOSED in d.rules,
                )
        return out

    def _conversation(self, conv: tuple[Message, ...], age: AgeBand) -> Verdict:
        mon = self.engine.monitor(age)
        actions: list[Action] = []
        cats: dict[str, None] = {}
        failed = False
        first: int | None = None
        for i, m in enumerate(conv):
            # as the gateway does: the request's history gives the same speaker's previous message
            prev = conv[i - 1].text if i and conv[i - 1].role is m.role else None
            d = mon.add(m, emit=False, previous=prev)
            actions.append(d.action)
            cats.update(dict.fromkeys(c.value for c in d.categories))
            failed = failed or _FAIL_CLOSED in d.rules
            if first is None and d.categories:
                first = i
        if first is None and Action.most_severe(actions) is not Action.ALLOW:
            first = mon.first_flag_index
        return Verdict(Action.most_severe(actions), list(cats), first, failed_closed=failed)


def _chat_url(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return url + "/chat/completions"


class HttpTarget:
    """An OpenAI-compatible chat endpoint, judged end to end."""

    name = "url"
    end_to_end = True

    def __init__(
        self,
        url: str,
        judge: Engine,
        api_key: str | None = None,
        model: str = "childsafe-redteam",
        timeout_s: float = 60.0,
        concurrency: int = 4,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise TargetError(f"--target must be 'guard' or an http(s) URL, got {url!r}")
        self.url = _chat_url(url)
        self.judge = judge
        self.api_key = api_key
        self.model = model
        self.timeout_s = timeout_s
        self.concurrency = max(1, concurrency)
        self.run_id = uuid.uuid4().hex[:10]

    def describe(self) -> dict[str, Any]:
        return {"target": "url", "url": self.url, "model": self.model, "judge": GuardTarget(self.judge).describe()}

    def check_reachable(self) -> None:
        """Fail early with a clear message when the endpoint cannot be reached at all."""
        try:
            self._post([{"role": "user", "content": "hello"}], AgeBand.ADULT, "probe-reachable")
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise TargetError(f"{self.url} refused the API key (HTTP {exc.code}); pass --api-key") from None
            if exc.code == 404:
                raise TargetError(f"{self.url} not found (HTTP 404): is this an OpenAI-compatible base URL?") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TargetError(f"cannot reach {self.url}: {reason}") from None

    def _post(self, messages: list[dict[str, str]], age: AgeBand, conv_id: str) -> dict[str, Any]:
        body = json.dumps({"model": self.model, "messages": messages}).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Childsafe-Child": f"redteam-{self.run_id}-{age.value}",
            "X-Childsafe-Age": age.value,
            "X-Childsafe-Conversation": conv_id,
        }
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(_RETRIES + 1):
            req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    data = json.loads(resp.read().decode("utf-8"))
                break
            except urllib.error.HTTPError as exc:
                # Rate limits and overload are the endpoint pacing us, not an answer: wait and retry.
                if exc.code not in (429, 503) or attempt == _RETRIES:
                    raise
                time.sleep(_retry_after(exc.headers.get("Retry-After"), attempt))
        if not isinstance(data, dict):
            raise ValueError("response is not a JSON object")
        return data

    def _one(self, conv: tuple[Message, ...], age: AgeBand) -> Verdict | None:
        history: list[dict[str, str]] = []
        actions: list[Action] = []
        cats: dict[str, None] = {}
        reached = False
        failed = False
        first: int | None = None
        sent = False
        for i, m in enumerate(conv):
            if m.role is Role.SYSTEM:
                history.append({"role": "system", "content": m.text})
                continue
            history.append({"role": "user" if m.role is Role.CHILD else "assistant", "content": m.text})
            if m.role is not Role.CHILD:
                continue
            sent = True
            # A fresh conversation id per request: the endpoint sees the whole scripted history each time.
            conv_id = f"rt-{self.run_id}-{uuid.uuid4().hex[:12]}"
            try:
                data = self._post(list(history), age, conv_id)
            except urllib.error.HTTPError as exc:
                return Verdict(Action.ALLOW, error=f"HTTP {exc.code}")
            except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
                return Verdict(Action.ALLOW, error=type(exc).__name__)
            action, delivered, its_cats = _read_response(data)
            # When the gateway stopped the content, what the child sees is the gateway's own explanation.
            passed_through = action is None or not action.stops_content
            judged = self.judge.check(delivered, age=age, role=Role.ASSISTANT) if delivered and passed_through else None
            if action is None:  # not a childsafe gateway: the reply is all we can judge
                action = Action.ALLOW if judged is None else judged.action
                its_cats = [] if judged is None else [c.value for c in judged.categories]
            if judged is not None and judged.action is not Action.ALLOW:
                reached = True
            actions.append(action)
            cats.update(dict.fromkeys(its_cats))
            # A gateway block that names no category is its fail-closed answer (a check could not run).
            failed = failed or (action.stops_content and not its_cats)
            if first is None and action is not Action.ALLOW:
                first = i
        if not sent:
            return None
        return Verdict(Action.most_severe(actions), list(cats), first, reached, failed_closed=failed)

    def evaluate(self, conversations: Sequence[tuple[Message, ...]], age: AgeBand) -> list[Verdict | None]:
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda c: self._one(c, age), conversations))


def _read_response(data: dict[str, Any]) -> tuple[Action | None, str, list[str]]:
    """(gateway action or None, the text delivered to the child, flagged categories)."""
    text = ""
    choices = data.get("choices")
    finish = None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        msg = choices[0].get("message") or {}
        finish = choices[0].get("finish_reason")
        if isinstance(msg, dict) and isinstance(msg.get("content"), str):
            text = msg["content"]
    info = data.get("childsafe")
    if isinstance(info, dict) and isinstance(info.get("action"), str):
        try:
            action = Action.parse(info["action"])
        except ChildsafeError:
            action = Action.BLOCK  # an action we do not know is treated as stopping content
        cats = [str(c) for c in info.get("categories") or [] if isinstance(c, str)]
        return action, text, [c for c in cats if c in {x.value for x in Category}]
    if finish == "content_filter":
        return Action.BLOCK, text, []
    return None, text, []
