"""Over HTTPS, records carry ``tlsDetails`` as CloudTrail writes them: the negotiated
``tlsVersion`` and ``cipherSuite`` (OpenSSL names, e.g. ``TLSv1.3`` / ``TLS_AES_128_GCM_SHA256``)
before ``clientProvidedHostHeader`` (aws-sts-behaviour.md §4). A real ``stsd serve
--tls-cert/--tls-key`` with a CA from ``stsd ca init``; the client's own TLS socket says what was
negotiated, and the record must say the same."""

from __future__ import annotations

import http.client
import ssl
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from stsd.testing import StsdServer
from tests.audit.conftest import ACCOUNT_A, file_records, records_of, request_id


def signed_call(server: StsdServer, context: ssl.SSLContext) -> tuple[str, str, str, dict[str, Any]]:
    """A signed GetCallerIdentity over its own TLS connection: (request id, the TLS version and
    cipher the client negotiated, the response headers)."""
    creds = server.admins[ACCOUNT_A]
    body = "Action=GetCallerIdentity&Version=2011-06-15"
    request = AWSRequest(method="POST", url=f"{server.endpoint_url}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(BotoCredentials(creds.access_key_id, creds.secret_access_key), "sts", "us-east-1").add_auth(request)
    connection = http.client.HTTPSConnection(server.host, server.port, context=context, timeout=30)
    try:
        connection.request("POST", "/", body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        assert response.status == 200, response.read()
        response.read()
        sock = connection.sock
        assert isinstance(sock, ssl.SSLSocket)
        version, cipher = sock.version(), sock.cipher()
        assert version is not None and cipher is not None
        return response.headers["x-amzn-RequestId"], version, cipher[0], dict(response.headers)
    finally:
        connection.close()


def client_context(server: StsdServer) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(server.ca_file))


def test_tls13_version_and_cipher_recorded_before_the_host(tls_server: StsdServer) -> None:
    context = client_context(tls_server)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    rid, version, cipher, _ = signed_call(tls_server, context)
    assert version == "TLSv1.3"
    (record,) = records_of(tls_server, rid, files=True)
    assert list(record["tlsDetails"].items()) == [
        ("tlsVersion", "TLSv1.3"), ("cipherSuite", cipher),
        ("clientProvidedHostHeader", f"127.0.0.1:{tls_server.port}"),
    ]
    assert cipher.startswith("TLS_")  # a TLS 1.3 suite name, e.g. TLS_AES_256_GCM_SHA384


def test_tls12_with_a_chosen_cipher_is_recorded_as_negotiated(tls_server: StsdServer) -> None:
    context = client_context(tls_server)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE+AESGCM")
    offered = {c["name"] for c in context.get_ciphers() if c["protocol"] == "TLSv1.2"}
    rid, version, cipher, _ = signed_call(tls_server, context)
    assert version == "TLSv1.2"
    assert cipher in offered
    (record,) = records_of(tls_server, rid)
    assert record["tlsDetails"] == {"tlsVersion": "TLSv1.2", "cipherSuite": cipher,
                                    "clientProvidedHostHeader": f"127.0.0.1:{tls_server.port}"}


def test_boto3_over_https_and_the_same_fields_in_the_files(tls_server: StsdServer) -> None:
    response = tls_server.client("sts").get_caller_identity()
    rid = request_id(response)
    (stored,) = records_of(tls_server, rid, files=True)
    (in_file,) = [r for r in file_records(tls_server) if r["requestID"] == rid]
    assert stored["tlsDetails"]["tlsVersion"] == "TLSv1.3"  # botocore's default context negotiates 1.3 here
    assert list(stored["tlsDetails"]) == ["tlsVersion", "cipherSuite", "clientProvidedHostHeader"]
    assert stored["tlsDetails"]["clientProvidedHostHeader"] == f"127.0.0.1:{tls_server.port}"
    assert in_file["tlsDetails"] == stored["tlsDetails"]
