"""POST /v1/chat/completions: check the child's newest message, forward, check the answer, relay."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse

from childsafe.engine import ConversationMonitor
from childsafe.explain.messages import ai_disclosure, available_languages
from childsafe.gateway.appeal_link import appeal_for, with_appeal_link
from childsafe.gateway.errors import DATABASE_UNAVAILABLE_ERRORS, ApiError, database_unavailable, error_body
from childsafe.gateway.guardians import privacy_gate
from childsafe.gateway.ratelimit import enforce_request_size, extra_units
from childsafe.gateway.schemas import (
    ChatCompletionRequest,
    ChildsafeInfo,
    ToolCall,
    finish_reason,
    safe_token,
    shown_text_fields,
    tool_call,
    tool_calls_of,
    usage_counts,
)
from childsafe.gateway.state import Gateway
from childsafe.gateway.streaming import StreamGuard, ToolCallBuffer
from childsafe.gateway.upstream import UpstreamError
from childsafe.store import AppRecord, ChildRecord, ConversationRecord, DecisionScope, scoped
from childsafe.types import Action, Decision, Message, Role

log = logging.getLogger("childsafe.gateway")

# Roles whose text is conversation between the child and the assistant; operator prompts and tool output
# are not, so they are forwarded but not fed to the conversation monitor.
_ROLE_MAP = {"user": Role.CHILD, "assistant": Role.ASSISTANT}
FALLBACK_BLOCK_MESSAGE = "I can't help with that. Let's talk about something else."
_FIELD_SEPARATOR = "\n\n"
_MALFORMED_CALL = "the model server sent a malformed tool call"


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"


def _joined(texts: list[str]) -> str:
    """Several texts of one answer as one (what is stored as the assistant's turn)."""
    return _FIELD_SEPARATOR.join(t for t in texts if t)


def _call_text(calls: list[ToolCall], function: ToolCall | None) -> str:
    """The arguments of an answer's calls, checked together as one text."""
    return _joined([c.arguments for c in calls] + ([function.arguments] if function is not None else []))


def _most_severe(decisions: list[Decision]) -> Decision:
    """The decision that decides (the first of equally severe ones: the content's, which carries context)."""
    return max(decisions, key=lambda d: d.action.severity)


def _as_decided(text: str, decision: Decision) -> str:
    """A text that passed its check (allow or warn), or its redaction; only called when nothing was stopped."""
    if decision.action is not Action.REDACT:
        return text
    return decision.redacted_text if decision.redacted_text is not None else FALLBACK_BLOCK_MESSAGE


def _call_deltas(calls: list[ToolCall], function: ToolCall | None) -> list[dict[str, Any]]:
    """Checked calls as stream deltas, each call whole in one chunk."""
    deltas: list[dict[str, Any]] = [{"tool_calls": [call.as_tool_call(i)]} for i, call in enumerate(calls)]
    if function is not None:
        deltas.append({"function_call": function.as_function_call()})
    return deltas


def _message_text(index: int, content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for part in content:
        if part.type != "text":  # the part's type is not quoted: errors never echo what the client sent
            raise ApiError(
                400,
                f"messages[{index}].content has a part whose type is not 'text' (an image, audio or file part); "
                "the gateway checks text only, so it is refused",
                param=f"messages[{index}].content",
            )
        texts.append(part.text or "")
    return "\n".join(texts)


@dataclass(slots=True)
class Turn:
    """One request's view of its conversation while the turn is in progress."""

    app: AppRecord
    child: ChildRecord
    conversation_id: str
    messages: list[tuple[str, str]]
    monitor: ConversationMonitor
    disclosed: bool
    input_decision: Decision
    input_index: int
    new_start: int
    checked_chars: int
    checked_texts: int

    @property
    def scope(self) -> DecisionScope:
        return DecisionScope(self.app.id, self.child.id, self.conversation_id)


def _check_input(gw: Gateway, app: AppRecord, child: ChildRecord, conv_id: str, msgs: list[tuple[str, str]]) -> Turn:
    """Load the conversation, add the messages the monitor has not seen, decide on the newest child message."""
    record = gw.load_conversation(conv_id)
    if record is not None and (record.child_id != child.id or record.app_id != app.id):
        raise ApiError(409, "this conversation id belongs to another child", "conversation_conflict")
    monitor = gw.engine.monitor(child.age_band, record.state if record else None)
    seen = record.messages_seen if record else 0
    child_indices = [i for i, (role, _t) in enumerate(msgs) if role == "user"]
    if not child_indices:
        raise ApiError(400, "messages has no 'user' message to answer", param="messages")
    newest = child_indices[-1]
    # A history shorter than what was seen means the client edited it: only the newest message is new.
    start = seen if seen <= len(msgs) else newest
    decision: Decision | None = None
    checked_chars = checked_texts = 0
    new = msgs[start:]
    for offset, (role, text) in enumerate(new):
        mapped = _ROLE_MAP.get(role)
        if mapped is None:
            continue
        checked_chars += len(text)
        checked_texts += 1
        at = start + offset
        previous = msgs[at - 1][1] if at > 0 and msgs[at - 1][0] == role else None
        d = monitor.add(Message(mapped, text), previous=previous)
        if start + offset == newest:
            decision = d
    if decision is None:
        # The newest child message was already seen (a retry): check it again on its own, never skip it.
        meta = {"app_id": app.id, "child_id": child.id, "conversation_id": conv_id}
        decision = gw.engine.check(msgs[newest][1], age=child.age_band, role=Role.CHILD, metadata=meta)
        checked_chars += len(msgs[newest][1])
        checked_texts += 1
    return Turn(
        app=app,
        child=child,
        conversation_id=conv_id,
        messages=msgs,
        monitor=monitor,
        disclosed=record.disclosed if record else False,
        input_decision=decision,
        input_index=newest,
        new_start=start,
        checked_chars=checked_chars,
        checked_texts=checked_texts,
    )


def _finish_turn(gw: Gateway, turn: Turn, reply: str | None, reply_decision: Decision | None, disclosed: bool) -> None:
    """Persist monitor state (and, when enabled, the encrypted messages)."""
    seen = len(turn.messages) + (1 if reply is not None else 0)
    vault = gw.store.messages
    gw.save_conversation(
        ConversationRecord(turn.conversation_id, turn.app.id, turn.child.id, turn.monitor.state(), seen, disclosed),
        now=vault is not None,  # stored messages reference the conversation row, so it must exist first
    )
    if vault is not None:
        for i in range(turn.new_start, len(turn.messages)):
            role, text = turn.messages[i]
            if role in _ROLE_MAP:
                decision_id = turn.input_decision.decision_id if i == turn.input_index else None
                vault.put(turn.conversation_id, role, text, decision_id)
        if reply is not None:
            vault.put(turn.conversation_id, "assistant", reply, reply_decision.decision_id if reply_decision else None)


class ChatHandler:
    """The chat pipeline for one request."""

    def __init__(self, gw: Gateway, app: AppRecord, body: ChatCompletionRequest, request_url: str = "") -> None:
        self.gw = gw
        self.app = app
        self.body = body
        self.public_url = gw.server.public_url or request_url
        """Where the child's appeal link points: ``server.public_url``, else the address this request came to."""
        self.created = int(time.time())
        self.completion_id = "chatcmpl-cs" + uuid.uuid4().hex[:24]
        self.language: str = gw.engine.config.language
        """The language the child is told things in: their message's, once identified (else the deployment's)."""

    def disclosure(self, shown: bool) -> dict[str, Any]:
        return {"ai": True, "text": ai_disclosure(self.language), "shown": shown}

    def info(
        self, decision: Decision, stage: str, shown: bool, input_decision: Decision | None = None
    ) -> dict[str, Any]:
        decisive = decision
        if input_decision is not None and input_decision.action.severity > decision.action.severity:
            decisive = input_decision
        cats = list(dict.fromkeys(c.value for d in (input_decision, decision) if d is not None for c in d.categories))
        info = ChildsafeInfo(
            action=decisive.action.value,
            categories=cats,
            decision_id=decisive.decision_id,
            disclosure=self.disclosure(shown),
            stage="input" if stage == "input" else "output",
        ).model_dump()
        appeal = appeal_for(decisive, self.public_url)
        if appeal is not None:
            info["appeal"] = appeal
        if input_decision is not None:
            info["input"] = {"action": input_decision.action.value, "decision_id": input_decision.decision_id}
            info["output"] = {"action": decision.action.value, "decision_id": decision.decision_id}
        return info

    async def run(self, child_ext: str | None, conversation: str | None, age: str | None) -> Response:
        gw = self.gw
        if gw.upstream is None:
            raise ApiError(503, "no upstream model server is configured (server.upstream.url)", "service_unavailable")
        msgs = self._messages()
        child = await gw.resolve_child(self.app, child_ext, age)
        refusal = await privacy_gate(self, child)  # consent (raises) and healthy-use limits (kind reply)
        if refusal is not None:
            return refusal
        if conversation is not None and not (0 < len(conversation) <= 80):
            raise ApiError(400, "X-Childsafe-Conversation must be 1 to 80 characters", param="X-Childsafe-Conversation")
        conv_id = conversation or gw.derive_conversation_id(self.app.id, child.id, msgs[0][1])
        lock = gw.conversation_lock(conv_id)
        try:
            await asyncio.wait_for(lock.acquire(), timeout=gw.server.upstream.timeout_s + 10)
        except TimeoutError:
            raise ApiError(409, "another request for this conversation is still running", "conversation_busy") from None
        handed_over = False
        try:
            scope = DecisionScope(self.app.id, child.id, conv_id)
            with scoped(scope):
                turn = await asyncio.to_thread(_check_input, gw, self.app, child, conv_id, msgs)
            gw.metrics.decisions.labels("input", turn.input_decision.action.value).inc()
            if turn.input_decision.language in available_languages():
                self.language = turn.input_decision.language
            self._charge(turn.checked_chars, turn.checked_texts)
            show = bool(gw.server.show_disclosure) and not turn.disclosed
            if turn.input_decision.action.stops_content:
                reply = self._stopped(turn.input_decision)
                # The explanation comes back as the assistant's turn in the next request's history.
                await asyncio.to_thread(_finish_turn, gw, turn, reply, turn.input_decision, turn.disclosed or show)
                return self._blocked_input(turn, reply, show)
            payload = self._payload(turn, child)
            if self.body.stream:
                resp = await self._upstream_call(turn, payload, stream=True)
                handed_over = True
                return StreamingResponse(
                    self._relay(turn, resp, show, lock),
                    media_type="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                )
            data = await self._upstream_call(turn, payload, stream=False)
            return await self._checked_completion(turn, data, show)
        finally:
            if not handed_over:
                lock.release()

    def _messages(self) -> list[tuple[str, str]]:
        """Each message's role and text, refused (413) over ``server.limits`` before anything is checked."""
        limits = self.gw.server.limits
        enforce_request_size(limits, messages=len(self.body.messages), chars=0, param="messages")
        msgs = [(m.role, _message_text(i, m.content)) for i, m in enumerate(self.body.messages)]
        checked = sum(len(text) for role, text in msgs if role in _ROLE_MAP)
        enforce_request_size(limits, messages=len(msgs), chars=checked, param="messages")
        return msgs

    def _charge(self, checked_chars: int, checked_texts: int) -> None:
        """Weight the app's rate limit by what this request cost to check (the admission unit is already paid)."""
        units = extra_units(self.gw.server.limits, checked_chars, checked_texts)
        self.gw.limiter.charge(self.app.id, self.app.rate_limit_per_minute, units)

    def _payload(self, turn: Turn, child: ChildRecord) -> dict[str, Any]:
        payload = self.body.model_dump(exclude_unset=True, exclude_none=True)
        if turn.input_decision.action is Action.REDACT and turn.input_decision.redacted_text is not None:
            payload["messages"][turn.input_index]["content"] = turn.input_decision.redacted_text
        payload["user"] = child.id  # the app's own user id never reaches the model provider
        upstream = self.gw.server.upstream
        if upstream.model:
            payload["model"] = upstream.model
        payload["stream"] = bool(self.body.stream)
        return payload

    async def _upstream_call(self, turn: Turn, payload: dict[str, Any], *, stream: bool) -> Any:
        gw = self.gw
        assert gw.upstream is not None
        started = time.perf_counter()
        try:
            result = await (gw.upstream.open_stream(payload) if stream else gw.upstream.complete(payload))
        except UpstreamError as err:
            await gw.record_upstream_error(err, self.app.id, turn.conversation_id)
            await asyncio.to_thread(_finish_turn, gw, turn, None, None, turn.disclosed)
            type_ = "upstream_timeout" if err.status == 504 else "upstream_error"
            raise ApiError(err.status, err.message, type_, code=err.kind) from None
        gw.metrics.upstream_latency.observe(time.perf_counter() - started)
        return result

    # -- responses ---------------------------------------------------------------------------------
    def _with_disclosure(self, text: str, show: bool) -> str:
        return f"{ai_disclosure(self.language)}\n\n{text}" if show else text

    def _stopped(self, decision: Decision, message: str | None = None) -> str:
        """What the child reads instead of stopped content: the explanation (``message``, else the decision's),
        then the link to contest the decision when the explanation invites it."""
        text = message or decision.child_message or FALLBACK_BLOCK_MESSAGE
        return with_appeal_link(text, decision, self.public_url)

    def _blocked_input(self, turn: Turn, reply: str, show: bool) -> Response:
        info = self.info(turn.input_decision, "input", show)
        content = self._with_disclosure(reply, show)
        if not self.body.stream:
            return JSONResponse(
                {
                    "id": self.completion_id,
                    "object": "chat.completion",
                    "created": self.created,
                    "model": self.body.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "content_filter",
                        }
                    ],
                    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                    "childsafe": info,
                }
            )

        async def events() -> AsyncIterator[bytes]:
            yield self._sse({"role": "assistant", "content": ""}, childsafe=info)
            yield self._sse({"content": content})
            yield self._sse({}, finish="content_filter", childsafe=info)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    async def _check_output(self, turn: Turn, text: str) -> Decision:
        """The answer's content, in the conversation's context (the monitor's state moves on)."""
        with scoped(turn.scope):
            decision = await asyncio.to_thread(turn.monitor.add, Message(Role.ASSISTANT, text))
        self.gw.metrics.decisions.labels("output", decision.action.value).inc()
        return decision

    async def _check_side_text(self, turn: Turn, text: str) -> Decision:
        """Another text of the answer a client may show (refusal, reasoning, call arguments): checked on its own,
        so safe content around it cannot dilute it, by the same detectors and policy as the content."""
        meta = {"app_id": self.app.id, "child_id": turn.child.id, "conversation_id": turn.conversation_id}
        decision = await self.gw.engine.acheck(text, age=turn.child.age_band, role=Role.ASSISTANT, metadata=meta)
        self.gw.metrics.decisions.labels("output", decision.action.value).inc()
        return decision

    async def _checked_completion(self, turn: Turn, data: dict[str, Any], show: bool) -> Response:
        """Check every field a client can show, then build the reply from an allow-list of fields: what the
        gateway has not checked (logprobs, audio, unknown fields) never reaches the child."""
        choice = data["choices"][0]
        message = choice["message"]
        content = message.get("content") or ""
        side = [(name, text) for name, text in shown_text_fields(message) if name != "content"]
        calls = tool_calls_of(message)
        function = tool_call(message.get("function_call"))
        call_text = _call_text(calls, function)
        checks = [self._check_output(turn, content), *(self._check_side_text(turn, text) for _n, text in side)]
        if call_text:
            checks.append(self._check_side_text(turn, call_text))
        decisions = list(await asyncio.gather(*checks))
        checked = _joined([content, *(text for _n, text in side), call_text])
        self._charge(len(checked), len(decisions))
        decision = _most_severe(decisions)
        out: dict[str, Any] = {"role": "assistant"}
        # a call's arguments cannot be partly redacted and still mean anything: a redacted call is blocked
        if decision.action.stops_content or (call_text and decisions[-1].action is Action.REDACT):
            out["content"] = self._with_disclosure(self._stopped(decision), show)
            finish = "content_filter"
        else:
            delivered = _as_decided(content, decisions[0])
            out["content"] = self._with_disclosure(delivered, show) if (delivered or show) else message.get("content")
            for (name, text), d in zip(side, decisions[1:], strict=False):
                out[name] = _as_decided(text, d)
            if calls:
                out["tool_calls"] = [c.as_tool_call() for c in calls]
            if function is not None:
                out["function_call"] = function.as_function_call()
            finish = finish_reason(choice.get("finish_reason"), tool_calls=bool(calls), function_call=bool(function))
        reply: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion",
            "created": self.created,
            "model": safe_token(data.get("model"), self.body.model),
            "choices": [{"index": 0, "message": out, "logprobs": None, "finish_reason": finish}],
        }
        fingerprint = safe_token(data.get("system_fingerprint"), "")
        if fingerprint:
            reply["system_fingerprint"] = fingerprint
        usage = usage_counts(data.get("usage"))
        if usage is not None:
            reply["usage"] = usage
        reply["childsafe"] = self.info(decision, "output", show, turn.input_decision)
        await asyncio.to_thread(_finish_turn, self.gw, turn, checked, decision, turn.disclosed or show)
        return JSONResponse(reply)

    def _sse(
        self,
        delta: dict[str, Any],
        *,
        finish: str | None = None,
        childsafe: dict[str, Any] | None = None,
        model: str | None = None,
    ) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": model or self.body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if childsafe is not None:
            chunk["childsafe"] = childsafe
        return _event(chunk)

    async def _relay(self, turn: Turn, resp: Any, show: bool, lock: asyncio.Lock) -> AsyncIterator[bytes]:
        """Relay the upstream stream, releasing text only after it has been checked."""
        gw = self.gw
        assert gw.upstream is not None
        band = turn.child.age_band
        meta = {"app_id": self.app.id, "child_id": turn.child.id, "conversation_id": turn.conversation_id}

        async def check_window(text: str) -> Decision:
            d = await gw.engine.acheck(text, age=band, role=Role.ASSISTANT, metadata=meta)
            # Redaction cannot be undone once streamed, so in a stream it holds the text back like a block.
            return replace(d, action=Action.BLOCK) if d.action is Action.REDACT else d

        guard = StreamGuard(check_window, int(gw.server.stream_window_chars))
        tools = ToolCallBuffer()
        finish: Any = "stop"
        model: str | None = None
        usage: dict[str, Any] | None = None
        try:
            first = {"role": "assistant", "content": self._with_disclosure("", show) if show else ""}
            yield self._sse(first, childsafe=self.info(turn.input_decision, "input", show))
            try:
                async for event in gw.upstream.events(resp):
                    model = safe_token(event.get("model"), model or self.body.model)
                    usage = usage_counts(event.get("usage")) or usage
                    for ch in event.get("choices") or []:
                        if not isinstance(ch, dict) or ch.get("index", 0) != 0:
                            continue
                        if ch.get("finish_reason"):
                            finish = ch["finish_reason"]
                        delta = ch.get("delta") or {}
                        piece = (delta.get("content") or "") if isinstance(delta, dict) else None
                        if not isinstance(piece, str):
                            raise UpstreamError("malformed", 502, "the model server sent a malformed stream event")
                        try:
                            tools.feed(delta)  # held back whole until the answer has been checked
                        except ValueError:
                            raise UpstreamError("malformed", 502, _MALFORMED_CALL) from None
                        step = await guard.feed(piece)
                        if step.release:
                            yield self._sse({"content": step.release}, model=model)
                    if guard.blocked is not None:
                        break
            except UpstreamError as err:
                await gw.record_upstream_error(err, self.app.id, turn.conversation_id)
                await asyncio.to_thread(_finish_turn, gw, turn, None, None, turn.disclosed or show)
                yield _event(error_body(err.message, "upstream_error", code=err.kind))
                yield b"data: [DONE]\n\n"
                return
            calls, function = tools.tool_calls(), tools.function_call()
            call_text = _call_text(calls, function)
            checked = _joined([guard.text, call_text])
            final = await self._check_output(turn, guard.text)
            if call_text and guard.blocked is None:
                final = _most_severe([final, await self._check_side_text(turn, call_text)])
            self._charge(len(checked), 2 if call_text else 1)
            blocked = guard.blocked
            if blocked is None and (final.action.stops_content or final.action is Action.REDACT):
                blocked = final
            if blocked is not None:
                shown_decision = _most_severe([blocked, final])
                # the link contests the decision the last chunk's childsafe object names
                replacement = self._stopped(shown_decision, blocked.child_message)
                sep = "\n\n" if guard.released else ""
                yield self._sse({"content": sep + replacement}, model=model)
                finish = "content_filter"
            else:
                rest = guard.release_rest()
                if rest:
                    yield self._sse({"content": rest}, model=model)
                for delta in _call_deltas(calls, function):
                    yield self._sse(delta, model=model)
                finish = finish_reason(finish, tool_calls=bool(calls), function_call=bool(function))
                shown_decision = final
            # Saved before the last chunk: a client that hangs up after it must not lose the monitor state.
            await asyncio.to_thread(_finish_turn, gw, turn, checked, shown_decision, turn.disclosed or show)
            yield self._sse(
                {}, finish=finish, childsafe=self.info(shown_decision, "output", show, turn.input_decision), model=model
            )
            stream_options = (self.body.model_extra or {}).get("stream_options") or {}
            if usage is not None and isinstance(stream_options, dict) and stream_options.get("include_usage"):
                tail = {
                    "id": self.completion_id,
                    "object": "chat.completion.chunk",
                    "created": self.created,
                    "model": model or self.body.model,
                    "choices": [],
                    "usage": usage,
                }
                yield _event(tail)
            yield b"data: [DONE]\n\n"
        except DATABASE_UNAVAILABLE_ERRORS as exc:
            unavailable = database_unavailable(exc)
            log.error("stream failed: database unavailable (%s)", type(exc).__name__)
            yield _event(error_body(unavailable.message, unavailable.type, code=unavailable.code))
        except Exception as exc:  # after the headers are sent, an error can only end the stream safely
            log.error("stream failed: %s", type(exc).__name__)
            yield _event(error_body("internal error while streaming", "internal_error"))
        finally:
            await resp.aclose()
            lock.release()
