"""The outbound address policy: what a URL a user can set may reach."""

import pytest

from assistant_runtime.outbound import OutboundPolicy, OutboundRefused, networks_setting

DEFAULT = OutboundPolicy()


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",  # the cloud metadata service
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped IPv6
        "::ffff:169.254.169.254",
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str) -> None:
    assert not DEFAULT.allows(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert DEFAULT.allows(address)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/v1",
        "https://localhost:8080/v1",
        "https://[::1]/v1",
        "https://2130706433/v1",  # 127.0.0.1 as a decimal number
        "https://0x7f.0.0.1/v1",  # hexadecimal
        "https://0177.0.0.1/v1",  # octal
        "https://127.1/v1",  # shortened
        "https://[::ffff:7f00:1]/v1",
        "https://169.254.169.254/latest/meta-data",
        "https://0.0.0.0:11434/v1",
    ],
)
async def test_every_spelling_of_an_internal_address_is_refused(url: str) -> None:
    with pytest.raises(OutboundRefused, match="not public"):
        await DEFAULT.check_url(url)


async def test_the_refusal_says_the_same_whether_or_not_anything_listens() -> None:
    messages = set()
    for port in (1, 5432, 8000, 65535):  # closed or open, it is never connected to
        with pytest.raises(OutboundRefused) as refused:
            await DEFAULT.check_url(f"https://127.0.0.1:{port}/v1")
        messages.add(str(refused.value))
    assert len(messages) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://8.8.8.8/v1", "must use https"),
        ("ftp://8.8.8.8/v1", "must use https"),
        ("file:///etc/passwd", "must use https"),
        ("https:///v1", "names no host"),
        ("https://8.8.8.8:99999/v1", "port"),
    ],
)
async def test_only_https_urls_with_a_host_by_default(url: str, reason: str) -> None:
    with pytest.raises(OutboundRefused, match=reason):
        await DEFAULT.check_url(url)


async def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(OutboundRefused, match="does not resolve"):
        await DEFAULT.check_url("https://no-such-host.invalid/v1")


async def test_the_operators_allowlist_admits_internal_servers_over_http() -> None:
    policy = OutboundPolicy(["10.1.0.0/16", "127.0.0.0/8"], allow_http=True)
    await policy.check_url("http://127.0.0.1:11434/v1")
    assert policy.allows("10.1.2.3")
    assert not policy.allows("10.2.0.1"), "only the allowed network"
    assert not policy.allows("169.254.169.254")


def test_a_typo_in_the_allowlist_fails_at_start() -> None:
    assert networks_setting("10.0.0.0/8, ,::1/128") == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match="does not appear to be"):
        networks_setting("10.0.0.0/8,intranet")
