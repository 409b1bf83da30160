"""Which URLs the service may connect to (`index_service/outbound.py`): judged by the
addresses the host resolves to, every one of which must be global."""

from __future__ import annotations

import pytest

from index_service import outbound

LOOPBACK_FORMS = [
    "https://2130706433/",
    "https://127.1/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://0/",
    "https://localhost./",
    "https://LOCALHOST/",
    "https://keys.localhost/",
    "https://[::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[64:ff9b::7f00:1]/",
    "https://[2002:7f00:1::]/",
]
PRIVATE_FORMS = [
    "https://10.1.2.3/",
    "https://192.168.0.1/",
    "https://172.16.0.1/",
    "https://100.64.0.1/",
    "https://169.254.169.254/latest",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://224.0.0.1/",
    "http://8.8.8.8/",
]


@pytest.mark.parametrize("url", LOOPBACK_FORMS + PRIVATE_FORMS)
def test_loopback_and_private_addresses_in_any_spelling_are_not_public(url: str) -> None:
    with pytest.raises(outbound.NotPublic):
        outbound.check_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["https://8.8.8.8/jwks.json", "https://[2001:4860:4860::8888]:8443/hook"]
)
def test_a_global_address_is_public(url: str) -> None:
    outbound.check_url(url, allow_private=False)


def test_a_name_is_judged_by_every_address_it_resolves_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = {"ok.example": ["8.8.8.8"], "mixed.example": ["8.8.8.8", "127.0.0.1"]}

    def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    monkeypatch.setattr(outbound, "resolver", resolve)
    outbound.check_url("https://ok.example./k", allow_private=False)
    with pytest.raises(outbound.NotPublic):
        outbound.check_url("https://mixed.example/k", allow_private=False)
    with pytest.raises(outbound.NotPublic, match="cannot be resolved"):
        outbound.check_url("https://nowhere.invalid/k", allow_private=False)


def test_the_development_allowance_lets_plain_http_reach_only_loopback() -> None:
    outbound.check_url("http://127.0.0.1:9000/hook", allow_private=True)
    outbound.check_url("https://10.1.2.3/hook", allow_private=True)
    with pytest.raises(outbound.NotPublic):
        outbound.check_url("http://10.1.2.3/hook", allow_private=True)
