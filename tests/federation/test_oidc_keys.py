"""stsd.sts.oidc in-process, against real TLS issuers: what is fetched, what is refused, and the
cache rules (TTL, refetch interval, failure backoff, stale keys while a refresh fails).
A fake clock drives the cache; the network is real (loopback)."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives import serialization

from stsd.sts import oidc
from stsd.testing import free_port
from tests.federation.issuer import Issuer, TestCA, new_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def trusted(ca: TestCA):
    with Issuer(ca, keys=[new_key("RS256")]) as issuer:
        yield issuer


def cache_for(ca: TestCA, clock: FakeClock) -> oidc.KeyCache:
    return oidc.KeyCache(str(ca.root_pem), clock=clock)


def lookup(cache: oidc.KeyCache, issuer: Issuer, kid: str | None = None, alg: str = "RS256",
           thumbprints: tuple[str, ...] = ()) -> tuple[list, str]:
    return cache.keys(issuer.host_path, kid if kid is not None else issuer.keys[0].kid, alg, thumbprints)


def failure(call, *args, **kwargs) -> oidc.FetchError:
    with pytest.raises(oidc.FetchError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_fetch_once_then_cached_until_the_ttl(ca, trusted):
    clock = FakeClock()
    cache = cache_for(ca, clock)
    keys, method = lookup(cache, trusted)
    assert method == oidc.TRUST_STORE and len(keys) == 1
    token = oidc.parse_token(trusted.token())
    assert oidc.verify_signature(token, keys)
    for _ in range(5):
        lookup(cache, trusted)
    assert trusted.key_fetches() == 1
    clock.now += oidc.KEYS_TTL + 1
    lookup(cache, trusted)
    assert trusted.key_fetches() == 2


def test_unknown_kid_refetch_is_rate_limited(ca, trusted):
    clock = FakeClock()
    cache = cache_for(ca, clock)
    lookup(cache, trusted)
    assert failure(lookup, cache, trusted, kid="rotated-in").kind == oidc.NO_KEY
    assert trusted.key_fetches() == 1  # within REFETCH_SECONDS of the last fetch: no refetch
    clock.now += oidc.REFETCH_SECONDS
    assert failure(lookup, cache, trusted, kid="rotated-in").kind == oidc.NO_KEY
    assert trusted.key_fetches() == 2  # one refetch; the key is still not there
    trusted.keys.append(new_key("RS256", kid="rotated-in"))
    assert failure(lookup, cache, trusted, kid="rotated-in").kind == oidc.NO_KEY  # too soon again
    clock.now += oidc.REFETCH_SECONDS
    assert len(lookup(cache, trusted, kid="rotated-in")[0]) == 1
    assert trusted.key_fetches() == 3


def test_keys_without_kid_and_algorithm_families(ca):
    rsa, ec = new_key("RS256", kid=None), new_key("ES256", kid=None)
    with Issuer(ca, keys=[rsa, ec]) as issuer:
        cache = cache_for(ca, FakeClock())
        rsa_keys, _ = cache.keys(issuer.host_path, None, "RS256", ())
        ec_keys, _ = cache.keys(issuer.host_path, None, "ES256", ())
        assert len(rsa_keys) == len(ec_keys) == 1
        assert oidc.verify_signature(oidc.parse_token(issuer.token(key=ec)), ec_keys)
        assert not oidc.verify_signature(oidc.parse_token(issuer.token(key=ec)), rsa_keys)
        assert failure(cache.keys, issuer.host_path, None, "ES384", ()).kind == oidc.NO_KEY  # no P-384 key


def test_stale_keys_serve_while_a_refresh_fails_and_failures_back_off(ca, trusted):
    clock = FakeClock()
    cache = cache_for(ca, clock)
    lookup(cache, trusted)
    trusted.overrides[trusted.discovery_path] = (500, {}, b"")
    clock.now += oidc.KEYS_TTL + 1
    assert len(lookup(cache, trusted)[0]) == 1  # the refresh failed: the previous keys still answer
    hits = trusted.hits.get(trusted.discovery_path)
    lookup(cache, trusted)
    assert trusted.hits.get(trusted.discovery_path) == hits  # the failure is remembered: no retry storm
    del trusted.overrides[trusted.discovery_path]
    clock.now += oidc.FAILURE_SECONDS
    lookup(cache, trusted)
    assert trusted.hits.get(trusted.discovery_path) == hits + 1  # retried after the backoff, and it worked
    clock.now += oidc.STALE_SECONDS + oidc.KEYS_TTL
    trusted.overrides[trusted.keys_path] = (404, {}, b"")
    assert failure(lookup, cache, trusted).kind == oidc.NO_KEY  # too old to serve stale


def test_unreachable_issuer_fails_fast_after_the_first_try(ca):
    clock = FakeClock()
    calls = []

    def counting_fetch(url, **kwargs):
        calls.append(url)
        return oidc.fetch(url, **kwargs)

    cache = oidc.KeyCache(str(ca.root_pem), clock=clock, fetcher=counting_fetch)
    gone = f"127.0.0.1:{free_port()}/realm"
    assert failure(cache.keys, gone, "k", "RS256", ()).kind == oidc.UNREACHABLE
    assert failure(cache.keys, gone, "k", "RS256", ()).kind == oidc.UNREACHABLE
    assert len(calls) == 1


@pytest.mark.parametrize("case", ["http-jwks", "redirect", "not-json", "no-keys", "huge", "only-symmetric"])
def test_documents_that_yield_no_key(ca, trusted, case):
    discovery, keys = trusted.discovery_path, trusted.keys_path
    json_type = {"Content-Type": "application/json"}
    if case == "http-jwks":
        trusted.overrides[discovery] = (200, json_type, json.dumps(
            {"issuer": trusted.iss, "jwks_uri": f"http://127.0.0.1:{trusted.port}{keys}"}).encode())
    elif case == "redirect":  # redirects are not followed
        trusted.overrides[discovery] = (302, {"Location": f"{trusted.iss}/elsewhere"}, b"")
    elif case == "not-json":
        trusted.overrides[keys] = (200, json_type, b"<html>keys</html>")
    elif case == "no-keys":
        trusted.overrides[keys] = (200, json_type, b'{"keys": []}')
    elif case == "huge":
        padding = "x" * (oidc.MAX_DOCUMENT_BYTES + 1)
        trusted.overrides[keys] = (200, json_type, json.dumps({"keys": [], "padding": padding}).encode())
    else:
        trusted.overrides[keys] = (200, json_type, b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]}')
    error = failure(lookup, cache_for(ca, FakeClock()), trusted)
    assert error.kind == oidc.NO_KEY, error


def test_huge_document_without_content_length_is_cut_off(ca, trusted):
    """The size bound holds while reading, not only from the declared length."""
    body = b'{"keys": [], "padding": "' + b"x" * (oidc.MAX_DOCUMENT_BYTES * 2) + b'"}'
    trusted.overrides[trusted.keys_path] = (200, {"Content-Length": str(len(body)) + "0"}, body)
    assert failure(lookup, cache_for(ca, FakeClock()), trusted).kind == oidc.NO_KEY


def test_slow_issuer_times_out(ca, trusted):
    trusted.delay = 1.5
    started = time.monotonic()
    error = failure(oidc.fetch, f"{trusted.iss}/.well-known/openid-configuration", ca_file=str(ca.root_pem),
                    timeout=0.5)
    assert error.kind == oidc.UNREACHABLE
    assert time.monotonic() - started < 1.4


def test_trickling_issuer_is_cut_off_at_the_deadline(ca, trusted):
    """Each byte comes well within a socket timeout, the whole would take 5 s: the deadline holds."""
    trusted.overrides[trusted.discovery_path] = (200, {}, b"{" + b" " * 98 + b"}")
    trusted.trickle = 0.05
    started = time.monotonic()
    error = failure(oidc.fetch, f"{trusted.iss}/.well-known/openid-configuration", ca_file=str(ca.root_pem),
                    timeout=1.0)
    assert error.kind == oidc.UNREACHABLE
    assert time.monotonic() - started < 1.8


def test_trust_store_and_thumbprints(ca, rogue_ca):
    with Issuer(rogue_ca, keys=[new_key("RS256")]) as rogue:
        cache = cache_for(ca, FakeClock())
        assert failure(lookup, cache, rogue).kind == oidc.UNTRUSTED
        assert failure(lookup, cache, rogue, thumbprints=("f" * 40,)).kind == oidc.UNTRUSTED
        # The root's thumbprint is not what the server sends last: IAM pins the top intermediate.
        root_print = oidc.thumbprint(rogue_ca.root.public_bytes(serialization.Encoding.DER))
        assert failure(lookup, cache, rogue, thumbprints=(root_print,)).kind == oidc.UNTRUSTED
        keys, method = lookup(cache, rogue, thumbprints=(rogue_ca.intermediate_thumbprint.upper(),))
        assert method == oidc.THUMBPRINT and len(keys) == 1
        # Keys fetched on a thumbprint's word serve only providers that list it.
        assert failure(lookup, cache, rogue, thumbprints=("f" * 40,)).kind == oidc.UNTRUSTED
        assert rogue.key_fetches() == 1
    # Without the extra CA file only the system store counts: the test CA is not in it.
    with Issuer(ca, keys=[new_key("RS256")]) as trusted_elsewhere:
        assert failure(lookup, oidc.KeyCache(None, clock=FakeClock()), trusted_elsewhere).kind == oidc.UNTRUSTED


def test_pinned_chain_must_be_for_the_host(ca, rogue_ca):
    """A matching thumbprint does not excuse a certificate issued for another name."""
    with Issuer(rogue_ca, keys=[new_key("RS256")]) as rogue:
        url = f"https://localhost:{rogue.port}/{rogue.realm}/keys"  # the certificate names localhost too
        body, via = oidc.fetch(url, ca_file=None, thumbprints=(rogue_ca.intermediate_thumbprint,))
        assert via == rogue_ca.intermediate_thumbprint and json.loads(body)["keys"]
        wrong_name = f"https://127.1:{rogue.port}/{rogue.realm}/keys"  # 127.0.0.1, by a name not in the certificate
        error = failure(oidc.fetch, wrong_name, ca_file=None, thumbprints=(rogue_ca.intermediate_thumbprint,))
        assert error.kind == oidc.UNTRUSTED, error


def test_tokens_that_are_not_jwts():
    for raw in ("", "abcd", "a.b.c", "e30.e30", "e30.W10.", "not base64!.e30.x"):
        with pytest.raises(oidc.TokenError):
            oidc.parse_token(raw)
    token = oidc.parse_token("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    assert (token.alg, token.kid, token.claims) == ("RS256", None, {"sub": "x"})
    assert oidc.audiences({"aud": ["a", 1, "b"]}) == ["a", "b"]
    assert oidc.numeric(True) is None and oidc.numeric(5) == 5.0
