"""Healthy use: a guardian-set daily time limit, quiet hours in the child's time zone, and breaks."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from childsafe.privacy.hooks import AuditHook, no_audit
from childsafe.store.privacy_sql import HealthySettingsRecord, SqlHealthyUse, UsageRecord
from childsafe.types import InvalidInputError

# A gap longer than this between two messages is not counted as use: the child was doing something else.
COUNT_CAP = timedelta(minutes=5)
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_hhmm(value: str, field: str) -> time:
    m = _HHMM.match(value.strip())
    if not m:
        raise InvalidInputError(f"{field} must be a time like 21:30 (24-hour HH:MM), got {value!r}")
    return time(int(m.group(1)), int(m.group(2)))


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {name!r}; use an IANA name like Europe/London") from None


def validate_settings(s: HealthySettingsRecord) -> HealthySettingsRecord:
    """Check a guardian's settings; raises InvalidInputError naming the bad field."""
    parse_zone(s.timezone)
    if (s.quiet_start is None) != (s.quiet_end is None):
        raise InvalidInputError("quiet_start and quiet_end must be set together")
    if s.quiet_start is not None and s.quiet_end is not None:
        if parse_hhmm(s.quiet_start, "quiet_start") == parse_hhmm(s.quiet_end, "quiet_end"):
            raise InvalidInputError("quiet_start and quiet_end must differ")
    if s.daily_limit_minutes is not None and not 0 <= s.daily_limit_minutes <= 24 * 60:
        raise InvalidInputError("daily_limit_minutes must be between 0 and 1440")
    if s.break_after_minutes is not None and not 1 <= s.break_after_minutes <= 24 * 60:
        raise InvalidInputError("break_after_minutes must be between 1 and 1440")
    if not 1 <= s.break_minutes <= 24 * 60:
        raise InvalidInputError("break_minutes must be between 1 and 1440")
    return s


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """True inside [start, end); a window like 21:00-07:00 wraps past midnight."""
    if start < end:
        return start <= local < end
    return local >= start or local < end


_YOUNG = frozenset({"0-5", "6-9"})
_TEEN = frozenset({"13-15", "16-17", "adult"})


def kind_message(reason: str, age_band: str, *, resume: str | None = None, break_minutes: int = 10) -> str:
    """A short, warm explanation the child sees as the assistant's answer, worded for their age."""
    young, teen = age_band in _YOUNG, age_band in _TEEN
    if reason == "quiet_hours":
        when = f" at {resume}" if resume else " in the morning"
        if young:
            return f"It's rest time now. I'll be here again{when}. Sleep well!"
        if teen:
            return f"Quiet hours are on, so chat is paused until{when.removeprefix(' at')}. Get some rest - talk then."
        return f"It's quiet time now, set by your grown-up. Chat comes back{when}. Have a good rest!"
    if reason == "time_limit":
        if young:
            return "You've had lots of fun chatting today! That's all for today. See you tomorrow!"
        if teen:
            return (
                "You've reached today's time limit set by your parent or carer. It resets at midnight - see you then."
            )
        return "You've used today's chat time that your grown-up set. Time for something else - see you tomorrow!"
    if reason == "break":
        if young:
            return (
                "Time for a little break! Have a stretch and a drink of water,"
                f" and come back in {break_minutes} minutes."
            )
        if teen:
            return (
                f"You've been chatting for a while - time for a {break_minutes}-minute break. Stretch, rest your eyes."
            )
        return f"Let's take a break! Stretch, get some water, and come back in {break_minutes} minutes."
    raise ValueError(f"unknown healthy-use reason {reason!r}")


@dataclass(frozen=True, slots=True)
class HealthyVerdict:
    allowed: bool
    reason: str | None
    message: str | None
    minutes_used_today: float
    daily_limit_minutes: int | None
    resume_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "minutes_used_today": round(self.minutes_used_today, 1),
            "daily_limit_minutes": self.daily_limit_minutes,
            "resume_at": self.resume_at.isoformat() if self.resume_at else None,
        }


class HealthyUse:
    """Decides whether a child may chat right now, and counts the time when they do."""

    def __init__(self, repo: SqlHealthyUse, clock: Callable[[], datetime], audit: AuditHook = no_audit) -> None:
        self._repo = repo
        self._clock = clock
        self.audit = audit

    def settings(self, child_id: str) -> HealthySettingsRecord | None:
        return self._repo.settings(child_id)

    def set_settings(self, child_id: str, settings: HealthySettingsRecord, actor: str) -> HealthySettingsRecord:
        validate_settings(settings)
        self._repo.set_settings(child_id, settings)
        self.audit(
            {
                "type": "healthy_use.updated",
                "at": self._clock().isoformat(),
                "actor": actor,
                "child_id": child_id,
                "details": settings.to_dict(),
            }
        )
        return settings

    def usage_history(self, child_id: str) -> list[UsageRecord]:
        return self._repo.all_usage(child_id)

    def usage_today(self, child_id: str) -> float:
        s = self._repo.settings(child_id) or HealthySettingsRecord()
        day = self._clock().astimezone(parse_zone(s.timezone)).date().isoformat()
        u = self._repo.usage(child_id, day)
        return 0.0 if u is None else u.seconds / 60

    def check(
        self,
        child_id: str,
        age_band: str,
        *,
        record: bool = True,
        settings: HealthySettingsRecord | Literal["load"] | None = "load",
    ) -> HealthyVerdict:
        """The verdict for a request now; an allowed request (with ``record``) is counted as use.

        ``settings`` may be passed when the caller has already read them (saves a query per request)."""
        if settings == "load":
            settings = self._repo.settings(child_id)
        now = self._clock()
        if settings is None or isinstance(settings, str):
            return HealthyVerdict(True, None, None, 0.0, None, None)
        zone = parse_zone(settings.timezone)
        local = now.astimezone(zone)
        day = local.date().isoformat()
        last = self._repo.latest_usage(child_id)
        # The newest usage row is today's unless the day has turned (or the time zone changed).
        today = last if last is not None and last.day == day else self._repo.usage(child_id, day)
        used = today.seconds if today else 0

        def refuse(reason: str, resume_at: datetime | None) -> HealthyVerdict:
            resume = resume_at.astimezone(zone).strftime("%H:%M") if resume_at else None
            msg = kind_message(reason, age_band, resume=resume, break_minutes=settings.break_minutes)
            return HealthyVerdict(False, reason, msg, used / 60, settings.daily_limit_minutes, resume_at)

        if settings.quiet_start and settings.quiet_end:
            start, end = parse_hhmm(settings.quiet_start, "quiet_start"), parse_hhmm(settings.quiet_end, "quiet_end")
            if in_quiet_hours(local.time().replace(tzinfo=None), start, end):
                resume_local = datetime.combine(local.date(), end, tzinfo=zone)
                if resume_local <= local:
                    resume_local += timedelta(days=1)
                return refuse("quiet_hours", resume_local)
        gap = now - last.last_seen_at if last else None
        continuing = last is not None and gap is not None and gap < timedelta(minutes=settings.break_minutes)
        # The time since the previous message was spent using the service, even if this request is refused.
        used += int(min(gap, COUNT_CAP).total_seconds()) if continuing and gap is not None else 0
        session_start = last.session_start_at if continuing and last else now
        if settings.daily_limit_minutes is not None and used >= settings.daily_limit_minutes * 60:
            if record:
                self._repo.put_usage(child_id, UsageRecord(day, used, session_start, now))
            midnight = datetime.combine(local.date() + timedelta(days=1), time(0, 0), tzinfo=zone)
            return refuse("time_limit", midnight)
        if settings.break_after_minutes is not None and now - session_start >= timedelta(
            minutes=settings.break_after_minutes
        ):
            assert last is not None
            return refuse("break", last.last_seen_at + timedelta(minutes=settings.break_minutes))
        if record:
            self._repo.put_usage(child_id, UsageRecord(day, used, session_start, now))
        return HealthyVerdict(True, None, None, used / 60, settings.daily_limit_minutes, None)
