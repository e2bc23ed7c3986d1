"""stsd.netsetup.hostnames and hosts: the name list agrees with what the server recognises."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from stsd.cli import app
from stsd.netsetup.hostnames import (
    iam_hostnames,
    partition_ids,
    resolve_partitions,
    service_hostnames,
    sts_hostnames,
)
from stsd.netsetup.hosts import BEGIN, END, hosts_lines
from stsd.regions import global_endpoint, parse_host, regional_endpoint, regions
from stsd.server.pipeline import IAM_HOSTS


def test_default_is_the_aws_partition_with_fips_dual_stack_and_iam() -> None:
    names = service_hostnames()
    assert names[0] == "sts.amazonaws.com"
    assert names[-1] == "iam.amazonaws.com"
    for expected in ("sts.eu-west-1.amazonaws.com", "sts-fips.us-east-1.amazonaws.com", "sts.eu-west-1.api.aws",
                     "sts-fips.ca-central-1.api.aws", "sts.af-south-1.amazonaws.com"):
        assert expected in names
    assert not any(n.endswith(".cn") or "us-gov" in n for n in names)
    assert len(names) == len(set(names)) == 1 + 4 * len(regions("aws")) + 1


def test_every_sts_name_parses_to_its_endpoint() -> None:
    for name in sts_hostnames(["all"]):
        endpoint = parse_host(name)
        assert endpoint is not None, name
        assert endpoint.hostname == name


def test_all_partitions_cover_every_regional_variant_and_nothing_else() -> None:
    expected = {global_endpoint().hostname}
    for r in regions():
        for fips in (False, True):
            for dualstack in (False, True):
                expected.add(regional_endpoint(r.name, fips=fips, dualstack=dualstack).hostname)
    assert set(sts_hostnames(["all"])) == expected
    # GovCloud's plain host is its FIPS host: listed once.
    gov = [n for n in sts_hostnames(["aws-us-gov"]) if "us-gov-west-1" in n]
    assert gov == ["sts.us-gov-west-1.amazonaws.com", "sts.us-gov-west-1.api.aws", "sts-fips.us-gov-west-1.api.aws"]


def test_iam_names_are_the_ones_the_pipeline_routes_to_iam() -> None:
    assert set(iam_hostnames(["all"])) == set(IAM_HOSTS)
    assert iam_hostnames(["aws-cn"]) == ("iam.cn-north-1.amazonaws.com.cn",)
    assert iam_hostnames(["aws-iso"]) == ()
    assert "iam.amazonaws.com" not in service_hostnames(iam=False)


def test_partition_selection() -> None:
    assert resolve_partitions(None) == ("aws",)
    assert resolve_partitions(["AWS-CN", "aws", "aws"]) == ("aws", "aws-cn")
    assert resolve_partitions(["all", "aws"]) == partition_ids()
    with pytest.raises(ValueError, match=r"unknown partition.*nope"):
        resolve_partitions(["nope"])
    cn = sts_hostnames(["aws-cn"])
    assert "sts.amazonaws.com" not in cn  # the global endpoint belongs to aws only
    assert "sts.cn-north-1.amazonaws.com.cn" in cn


def test_hosts_lines() -> None:
    lines = hosts_lines("127.0.0.1", ["sts.amazonaws.com", "sts.eu-west-1.amazonaws.com", "sts.amazonaws.com"])
    assert lines == [BEGIN, "127.0.0.1  sts.amazonaws.com", "127.0.0.1  sts.eu-west-1.amazonaws.com", END]
    assert hosts_lines("::0001", ["a"], markers=False) == ["::1  a"]
    with pytest.raises(ValueError):
        hosts_lines("sts.local", ["a"])


def test_stsd_hosts_command() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["hosts"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == BEGIN and lines[-1] == END
    body = lines[1:-1]
    assert body == [f"127.0.0.1  {name}" for name in service_hostnames()]
    assert "127.0.0.1  sts.eu-west-1.api.aws" in body

    cn = runner.invoke(app, ["hosts", "--address", "10.1.2.3", "--partition", "aws-cn"])
    assert cn.exit_code == 0, cn.output
    assert "10.1.2.3  sts.cn-north-1.amazonaws.com.cn" in cn.output.splitlines()
    assert "sts.amazonaws.com" not in cn.output.split()

    assert runner.invoke(app, ["hosts", "--address", "not-an-ip"]).exit_code == 2
    assert runner.invoke(app, ["hosts", "--partition", "moon"]).exit_code == 2


def test_partition_help_names_every_partition() -> None:
    from stsd.cli_net import PARTITION_HELP

    for partition_id in partition_ids():
        assert f" {partition_id}," in PARTITION_HELP or f" {partition_id} " in PARTITION_HELP
