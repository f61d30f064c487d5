"""The connector contract: settings hide secrets, cursors are UTC text, windows start before the cursor."""

from datetime import timedelta

from pydantic import SecretStr

from crm_graph.connectors import ConnectorSettings, format_cursor, parse_cursor, window_start
from tests.factories import utc


class Settings(ConnectorSettings):
    url: str
    token: SecretStr
    optional_secret: SecretStr | None = None


def test_secrets_never_appear_in_public_views():
    settings = Settings(url="https://x", token="t0ps3cret", optional_secret="another")
    assert settings.public_dict() == {"url": "https://x"}
    assert "t0ps3cret" not in repr(settings) and "t0ps3cret" not in str(settings.public_dict())
    assert settings.stored_dict()["token"] == "t0ps3cret"
    assert Settings.secret_fields() == ["token", "optional_secret"]
    assert Settings.model_validate(settings.stored_dict()) == settings


def test_cursors_and_windows():
    moment = utc(2026, 3, 29, 1, 30)
    assert format_cursor(moment) == "2026-03-29T01:30:00+00:00" and parse_cursor("2026-03-29T01:30:00Z") == moment
    assert window_start(None, timedelta(minutes=5)) is None
    assert window_start(format_cursor(moment), timedelta(minutes=5)) == utc(2026, 3, 29, 1, 25)
