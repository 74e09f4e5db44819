"""Issue #17, item 6: tenant boundaries between apps, and age-band changes of guardian-managed children.

Two apps on one gateway. A guardian belongs to the app that created it: another app cannot link its child to
that guardian (which would hand its child's consent and data rights to an account it does not control). A
guardian-managed child's age band is the guardian's to change: the app's change is refused and audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from childsafe.config import AppKeyConfig
from childsafe.engine import Engine
from childsafe.gateway import create_app
from childsafe.store import Store

from .conftest import API_KEY, HTTP, FakeUpstream, ServerThread, make_config

OTHER_KEY = "sk-other-app"


@dataclass
class TwoApps:
    url: str
    app: Any

    def call(self, method: str, path: str, key: str, **kw: Any) -> httpx.Response:
        return HTTP.request(method, self.url + path, headers={"Authorization": f"Bearer {key}"}, **kw)

    def guardian(self, key: str, *children: tuple[str, int]) -> tuple[str, str, list[str]]:
        body = {"display_name": "Parent", "children": [{"user": u, "age": a} for u, a in children]}
        r = self.call("POST", "/v1/guardians", key, json=body)
        assert r.status_code == 201, r.text
        data = r.json()
        return data["guardian"]["id"], data["token"], [c["id"] for c in data["children"]]

    def audit_events(self, name: str) -> list[dict[str, Any]]:
        records = self.app.state.oversight.audit.records()
        return [{"actor": r.actor, "subject": r.subject, **r.data} for r in records if r.data.get("event") == name]


@pytest.fixture
def two_apps(
    db_url: str, tmp_path: Path, upstream: tuple[FakeUpstream, str], shared_engine: Engine
) -> Iterator[TwoApps]:
    config = make_config(db_url, tmp_path, upstream[1])
    config.server.apps.append(AppKeyConfig(name="other-app", key=OTHER_KEY))
    store = Store.from_config(config.store)
    app = create_app(config, engine=shared_engine, store=store)
    srv = ServerThread(app).__enter__()
    try:
        yield TwoApps(srv.url, app)
    finally:
        srv.__exit__()
        store.close()
        shared_engine.sinks.clear()


def test_an_app_cannot_link_its_child_to_another_apps_guardian(two_apps: TwoApps) -> None:
    guardian_a, token_a, _ = two_apps.guardian(API_KEY)
    r = two_apps.call("POST", f"/v1/guardians/{guardian_a}/children", OTHER_KEY, json={"user": "kid-b", "age": 9})
    assert r.status_code == 404, r.text
    err = r.json()["error"]
    assert err["param"] == "guardian_id" and "in this app" in err["message"]
    # answered exactly like a guardian id that does not exist, so ids cannot be probed across apps
    missing = two_apps.call("POST", "/v1/guardians/gd_nope/children", OTHER_KEY, json={"user": "kid-b", "age": 9})
    assert missing.status_code == 404 and missing.json() == r.json()
    me = two_apps.call("GET", "/v1/guardians/me", token_a).json()
    assert me["children"] == []  # the other app's child did not become this guardian's
    # the guardian's own app can link its children
    own = two_apps.call("POST", f"/v1/guardians/{guardian_a}/children", API_KEY, json={"user": "kid-a", "age": 9})
    assert own.status_code == 201, own.text


def test_the_store_refuses_a_cross_app_link_too(two_apps: TwoApps) -> None:
    """Defence in depth: the link itself is refused, whoever calls it (a CLI-made guardian, a race)."""
    from childsafe.store.privacy_sql import GuardianOfAnotherApp

    guardian_a, _token, _ = two_apps.guardian(API_KEY)
    _g, _t, (child_b,) = two_apps.guardian(OTHER_KEY, ("kid-b", 9))
    services = two_apps.app.state.privacy
    with pytest.raises(GuardianOfAnotherApp):
        services.guardians.link(guardian_a, child_b)
    assert services.guardians.children_of(guardian_a) == []


def test_an_app_cannot_change_a_guardian_managed_childs_age_band_and_the_attempt_is_audited(
    two_apps: TwoApps,
) -> None:
    _g, token, (kid,) = two_apps.guardian(API_KEY, ("kid-m", 11))
    r = two_apps.call("POST", "/v1/children", API_KEY, json={"id": "kid-m", "age": "adult"})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "guardian_managed" and err["param"] == "age" and "guardian" in err["message"]
    assert two_apps.call("GET", f"/v1/children/{kid}", token).json()["age_band"] == "10-12"
    refused = two_apps.audit_events("child.age_change_refused")
    assert refused == [
        {
            "actor": "app:test-app",
            "subject": kid,
            "event": "child.age_change_refused",
            "details": {"field": "age_band", "old": "10-12", "new": "adult"},
        }
    ]
    # the same band again is no change: accepted, nothing to audit
    same = two_apps.call("POST", "/v1/children", API_KEY, json={"id": "kid-m", "age": 11})
    assert same.status_code == 200 and same.json()["age_band"] == "10-12"
    # the guardian can change it
    assert two_apps.call("PATCH", f"/v1/children/{kid}", token, json={"age": 13}).status_code == 200
    again = two_apps.call("POST", "/v1/children", API_KEY, json={"id": "kid-m", "age": 13})
    assert again.status_code == 200 and again.json()["age_band"] == "13-15"


def test_an_apps_age_change_of_an_unmanaged_child_is_audited(two_apps: TwoApps) -> None:
    first = two_apps.call("POST", "/v1/children", API_KEY, json={"id": "kid-u", "age": 9})
    assert first.status_code == 200, first.text
    changed = two_apps.call("POST", "/v1/children", API_KEY, json={"id": "kid-u", "age": 16})
    assert changed.status_code == 200 and changed.json()["age_band"] == "16-17"
    child_id = changed.json()["child_id"]
    events = [e for e in two_apps.audit_events("child.rectified") if e["subject"] == child_id]
    assert events == [
        {
            "actor": "app:test-app",
            "subject": child_id,
            "event": "child.rectified",
            "details": {"field": "age_band", "old": "6-9", "new": "16-17"},
        }
    ]
