"""Settings come from the environment the template sets, and a bad one is named at cold start."""

import pytest

from credits_pipeline.wiring.settings import PusherSettings, SettingsError, load_settings
from credits_pipeline.wiring.splitter_settings import SplitterSettings


@pytest.fixture
def splitter_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "table")
    monkeypatch.setenv("MONTH_QUEUE_URL", "https://sqs/queue.fifo")
    monkeypatch.setenv("CLOUDZERO_CONNECTION_ID", "connection")


def test_known_accounts_are_read_as_the_files_ids_are(splitter_environment: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KNOWN_ACCOUNTS", "73933415963, 0629-5147-0133;")
    settings = load_settings(SplitterSettings)
    assert settings.known_accounts == frozenset({"073933415963", "062951470133"})
    assert settings.parse_config().known_accounts == settings.known_accounts


def test_no_known_accounts_means_every_valid_account(splitter_environment: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KNOWN_ACCOUNTS", "")
    assert load_settings(SplitterSettings).known_accounts is None


def test_a_bad_known_account_is_named(splitter_environment: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KNOWN_ACCOUNTS", "1.12233E+11")
    with pytest.raises(SettingsError, match=r"KNOWN_ACCOUNTS.*scientific notation"):
        load_settings(SplitterSettings)


def test_the_configured_description_and_service_reach_the_parser(
    splitter_environment: None, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CREDIT_DESCRIPTION", "Migration credit")
    monkeypatch.setenv("CREDIT_SERVICE", "MAP")
    config = load_settings(SplitterSettings).parse_config()
    assert (config.default_description, config.default_service) == ("Migration credit", "MAP")


def test_every_missing_variable_is_named_at_once(monkeypatch: pytest.MonkeyPatch):
    for name in ("IDEMPOTENCY_TABLE", "DEAD_LETTER_QUEUE_URL", "CLOUDZERO_CONNECTION_ID", "CLOUDZERO_API_KEY_SECRET"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SettingsError) as raised:
        load_settings(PusherSettings)
    message = str(raised.value)
    for name in ("IDEMPOTENCY_TABLE", "DEAD_LETTER_QUEUE_URL", "CLOUDZERO_CONNECTION_ID", "CLOUDZERO_API_KEY_SECRET"):
        assert name in message


def test_a_base_url_must_be_http(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("IDEMPOTENCY_TABLE", "t")
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", "q")
    monkeypatch.setenv("CLOUDZERO_CONNECTION_ID", "c")
    monkeypatch.setenv("CLOUDZERO_API_KEY_SECRET", "arn:secret")
    monkeypatch.setenv("CLOUDZERO_BASE_URL", "api.cloudzero.com")
    with pytest.raises(SettingsError, match="CLOUDZERO_BASE_URL"):
        load_settings(PusherSettings)
