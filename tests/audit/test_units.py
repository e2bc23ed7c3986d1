"""Units of the audit trail: user-agent parsing and remedies, time formats, element conversion.
(The queue, the writer process and the request path's cost: test_writer.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from stsd.audit.elements import HIDDEN, request_parameters, response_elements
from stsd.audit.fields import endpoint_details
from stsd.audit.remedies import remedy_for
from stsd.audit.timefmt import human, iso
from stsd.audit.useragent import parse_user_agent
from stsd.protocol.params import Int, Str, StrList, StructList
from stsd.protocol.render import Members

BOTO3_NEW = ("Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux#6.1 md/arch#x86_64 lang/python#3.11.7 "
             "md/pyimpl#CPython cfg/retry-mode#standard Botocore/1.44.5")


@pytest.mark.parametrize(("agent", "sdk", "version", "botocore"), [
    (BOTO3_NEW, "boto3", "1.44.5", "1.44.5"),
    ("Boto3/1.26.0 Python/3.9.1 Linux/5.10 Botocore/1.29.0", "boto3", "1.26.0", "1.29.0"),
    ("Boto3/1.9.0 Python/3.7 botocore/1.12.0", "boto3", "1.9.0", "1.12.0"),
    ("Botocore/1.31.0 Python/3.11", "botocore", "1.31.0", "1.31.0"),
    ("aws-cli/1.29.0 Python/3.11.7 Linux/6.1.0 botocore/1.31.0", "aws-cli-v1", "1.29.0", "1.31.0"),
    ("aws-cli/2.15.33 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/sts.assume-role",
     "aws-cli-v2", "2.15.33", None),
    ("aws-sdk-java/1.12.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.0 java/1.8.0", "java-v1", "1.12.0", None),
    ("aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17 Java/17 vendor/Amazon io/sync http/Apache",
     "java-v2", "2.20.0", None),
    ("aws-sdk-go/1.44.0 (go1.20; linux; amd64)", "go-v1", "1.44.0", None),
    ("aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21 md/GOOS#linux api/sts#1.23.0", "go-v2", "1.21.0", None),
    ("aws-sdk-js/2.1400.0 promise", "js-v2", "2.1400.0", None),
    ("aws-sdk-nodejs/2.1400.0 linux/v18.16.0", "js-v2", "2.1400.0", None),
    ("aws-sdk-js/3.600.0 ua/2.1 os/linux#5.10 lang/js md/nodejs#20.0 api/sts#3.600.0", "js-v3", "3.600.0", None),
    ("aws-sdk-dotnet-coreclr/3.7.100.0 aws-sdk-dotnet-core/3.7.100.0 .NET_Core/6.0 OS/Linux", "dotnet",
     "3.7.100.0", None),
    ("aws-sdk-dotnet-coreclr/3.7.1 .NET_Core/6 AWSPowerShell.NetCore/4.1.300.0", "powershell", "4.1.300.0", None),
    ("aws-sdk-php/3.280.0 OS/Linux/5.10 lang/php/8.2", "php", "3.280.0", None),
    ("aws-sdk-ruby3/3.180.0 ruby/3.2.0 x86_64-linux aws-sdk-core/3.180.0", "ruby-v3", "3.180.0", None),
    ("aws-sdk-rust/1.0.1 os/linux lang/rust#1.72.0", "rust", "1.0.1", None),
    ("aws-sdk-kotlin/1.0.0 ua/2.0 api/sts#1.0.0 os/linux", "kotlin", "1.0.0", None),
    ("aws-sdk-swift/0.30.0 os/macOS", "swift", "0.30.0", None),
    ("aws-sdk-cpp/1.11.200 Linux/5.10 x86_64 GCC/11", "cpp", "1.11.200", None),
    ("curl/8.0.1", "unknown", None, None),
    ("", "unknown", None, None),
])
def test_user_agents(agent, sdk, version, botocore):
    client = parse_user_agent(agent)
    assert (client.sdk, client.version, client.botocore) == (sdk, version, botocore)


def test_remedies_follow_the_sdk_table():
    old_boto3 = remedy_for("Boto3/1.26.0 Python/3.9 Botocore/1.29.0", "eu-north-1")
    assert (old_boto3.supports_setting, old_boto3.default_setting) == (True, "legacy")
    assert old_boto3.setting == "sts_regional_endpoints = regional"
    assert old_boto3.environment == "AWS_STS_REGIONAL_ENDPOINTS=regional"
    assert "upgrade to boto3/botocore ≥ 1.40" in old_boto3.fix and "region = eu-north-1" in old_boto3.fix
    new_boto3 = remedy_for(BOTO3_NEW, "eu-west-1")
    assert new_boto3.default_setting == "regional"
    assert "remove the legacy setting" in new_boto3.fix and "botocore ≥ 1.40 defaults to regional" in new_boto3.fix
    assert new_boto3.endpoint_url == "https://sts.eu-west-1.amazonaws.com"

    cli_new = remedy_for("aws-cli/1.42.3 Python/3.11 botocore/1.40.3", "us-west-2")
    assert cli_new.default_setting == "regional"
    cli_v2 = remedy_for("aws-cli/2.15.33 Python/3.11.8", "eu-north-1")
    assert (cli_v2.supports_setting, cli_v2.setting) == (False, None)
    assert "aws configure set region eu-north-1" in cli_v2.fix

    go1 = remedy_for("aws-sdk-go/1.44.0 (go1.20; linux; amd64)", "eu-north-1")
    assert go1.supports_setting and "AWS_SDK_LOAD_CONFIG=1" in go1.fix
    java2 = remedy_for("aws-sdk-java/2.20.0 Linux", "ap-southeast-2")
    assert not java2.supports_setting and "AWS_REGION=ap-southeast-2" in java2.fix
    js3 = remedy_for("aws-sdk-js/3.600.0 ua/2.1", "eu-north-1")
    assert "useGlobalEndpoint" in js3.fix
    ruby = remedy_for("aws-sdk-ruby3/3.180.0 ruby/3.2.0", "eu-north-1")
    assert (ruby.supports_setting, ruby.default_setting) == (True, "regional")
    for agent in ("aws-sdk-rust/1.0.1", "aws-sdk-swift/0.30.0", "aws-sdk-go-v2/1.21.0", "aws-sdk-cpp/1.11.200",
                  "aws-sdk-kotlin/1.0.0"):
        assert not remedy_for(agent, "eu-north-1").supports_setting
    for agent in ("aws-sdk-dotnet-coreclr/3.7.100.0", "aws-sdk-php/3.280.0", "AWSPowerShell.NetCore/4.1.300.0",
                  "aws-sdk-js/2.1400.0", "aws-sdk-java/1.12.0"):
        found = remedy_for(agent, "eu-north-1")
        assert found.supports_setting and "AWS_STS_REGIONAL_ENDPOINTS=regional" in found.fix, agent
    unknown = remedy_for("curl/8.0.1", None)
    assert (unknown.sdk, unknown.region, unknown.endpoint_url) == ("unknown", "us-east-1",
                                                                   "https://sts.us-east-1.amazonaws.com")
    china = remedy_for("aws-sdk-java/1.12.0", "cn-north-1")
    assert china.endpoint_url == "https://sts.cn-north-1.amazonaws.com.cn"


def test_time_formats():
    assert human(datetime(2025, 2, 12, 23, 16, 48, tzinfo=UTC)) == "Feb 12, 2025, 11:16:48 PM"
    assert human(datetime(2025, 3, 1, 0, 5, 0, tzinfo=UTC)) == "Mar 1, 2025, 12:05:00 AM"
    assert human(datetime(2025, 12, 31, 12, 0, 9, tzinfo=UTC)) == "Dec 31, 2025, 12:00:09 PM"
    assert iso(datetime(2025, 2, 12, 21, 44, 28, tzinfo=UTC)) == "2025-02-12T21:44:28Z"


def test_request_parameters():
    specs = (Str("RoleArn", "roleArn"), Int("DurationSeconds", "durationSeconds"), Str("TokenCode", "tokenCode"),
             StructList("Tags", "tags", (Str("Key", "key"), Str("Value", "value"))),
             StrList("TransitiveTagKeys", "transitiveTagKeys", Str("member", "member")),
             Str("Secret", "secret", sensitive=True))
    raw = {"Action": "AssumeRole", "RoleArn": "arn:aws:iam::1:role/r", "DurationSeconds": "90x", "TokenCode": "123456",
           "Tags.member.2.Key": "b", "Tags.member.2.Value": "2", "Tags.member.1.Key": "a", "Tags.member.1.Value": "1",
           "TransitiveTagKeys": "", "Secret": "s3cr3t"}
    assert request_parameters(specs, raw) == {
        "roleArn": "arn:aws:iam::1:role/r", "durationSeconds": "90x", "tokenCode": HIDDEN,
        "tags": [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}], "transitiveTagKeys": [], "secret": HIDDEN}
    assert request_parameters(specs, {"Action": "GetCallerIdentity"}) is None
    assert request_parameters((Int("DurationSeconds", "durationSeconds"),), {"DurationSeconds": "900"}) == {
        "durationSeconds": 900}


def test_response_elements_drop_secrets():
    when = datetime(2025, 2, 12, 23, 16, 48, tzinfo=UTC)
    nodes = [("Credentials", [("AccessKeyId", "ASIA1"), ("SecretAccessKey", "SECRET"), ("SessionToken", "tok"),
                              ("Expiration", when)]),
             ("PackedPolicySize", 7), ("SourceIdentity", None),
             ("Devices", Members([[("SerialNumber", "arn:1"), ("Base32StringSeed", "SEED")], "plain"]))]
    assert response_elements(nodes) == {
        "credentials": {"accessKeyId": "ASIA1", "sessionToken": "tok", "expiration": "Feb 12, 2025, 11:16:48 PM"},
        "packedPolicySize": 7, "devices": [{"serialNumber": "arn:1"}, "plain"]}
    assert response_elements(None) is None


def test_endpoint_details_of_records_from_before_2025():
    def sts(host: str, region: str = "eu-west-1") -> dict[str, Any]:
        return {"eventSource": "sts.amazonaws.com", "awsRegion": region,
                "tlsDetails": {"clientProvidedHostHeader": host}}

    assert endpoint_details(sts("sts.amazonaws.com", "us-east-1")) == ("global", "us-east-1")
    assert endpoint_details(sts("sts.eu-west-1.amazonaws.com")) == ("regional", "eu-west-1")
    assert endpoint_details(sts("vpce-1a2b.sts.eu-west-1.vpce.amazonaws.com")) == ("regional", "eu-west-1")
    assert endpoint_details({"eventSource": "iam.amazonaws.com"}) == (None, None)
    modern = sts("sts.amazonaws.com", "us-east-1")
    modern["additionalEventData"] = {"RequestDetails": {"endpointType": "global", "awsServingRegion": "eu-north-1"}}
    assert endpoint_details(modern) == ("global", "eu-north-1")
