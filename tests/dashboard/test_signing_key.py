"""The dashboard on a generated or public signing key: warns where to set a real one, never trusts the public one."""

from __future__ import annotations

from sqlmodel import select

from storage.alert_state import sign_action
from storage.models import Alert
from storage.signing_key import DEV_KEY


def _statuses(db) -> set[str]:  # noqa: ANN001
    with db.session() as s:
        return {(a.id, a.status) for a in s.exec(select(Alert)).all()}


def test_generated_key_warns_and_refuses_a_link_signed_with_the_old_dev_key(seeded_sqlite, make_app, monkeypatch,
                                                                            tmp_path) -> None:
    db, info = seeded_sqlite
    alert_id = info["alerts"]["bj-sanlitun"]
    before = _statuses(db)
    at = make_app(db)
    monkeypatch.delenv("TINGFENG_SECRET_KEY")
    monkeypatch.setenv("TINGFENG_DATA_DIR", str(tmp_path))
    at.query_params["action"] = "ack"
    at.query_params["token"] = sign_action(DEV_KEY, alert_id, "ack", "li")  # what anyone could sign before
    at.run().switch_page("views/alerts.py").run()
    assert "链接无效" in at.error[0].value
    assert _statuses(db) == before
    warning = " ".join(w.value for w in at.warning)
    assert "自动生成" in warning and str(tmp_path / "secret_key") in warning and "TINGFENG_SECRET_KEY" in warning
    # a link signed with the generated key (as the jobs sign them) still works
    key = (tmp_path / "secret_key").read_text().strip()
    at.query_params["token"] = sign_action(key, alert_id, "ack", "li")
    at.run()
    at.button(key="link_do").click().run()
    with db.session() as s:
        assert s.get(Alert, alert_id).status == "acknowledged"


def test_the_public_dev_key_disables_email_links_and_says_so(seeded_sqlite, make_app) -> None:
    db, info = seeded_sqlite
    alert_id = info["alerts"]["bj-sanlitun"]
    before = _statuses(db)
    at = make_app(db, TINGFENG_SECRET_KEY=DEV_KEY)
    at.query_params["action"] = "ack"
    at.query_params["token"] = sign_action(DEV_KEY, alert_id, "ack", "li")
    at.run().switch_page("views/alerts.py").run()
    assert "公开的开发密钥" in at.error[0].value and "TINGFENG_SECRET_KEY" in at.error[0].value
    assert "公开的开发密钥" in " ".join(w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "link_do"]
    assert _statuses(db) == before


def test_a_key_from_the_environment_shows_no_warning(seeded_sqlite, make_app) -> None:
    db, _ = seeded_sqlite
    at = make_app(db)
    at.run()
    assert not at.exception and not [w for w in at.warning if "密钥" in w.value]
