"""check_scope() and check_time(): AWS's texts, spacing included, and the 15-minute window."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from botocore.awsrequest import AWSRequest

from stsd.auth import sigv4
from stsd.errors import MSG_SCOPE_REGION, AwsError

from .sigv4_wire import SIGNED_AT, SIGNED_AT_UTC, form_post, presign, sign

UTC = dt.UTC


@pytest.fixture(scope="module")
def req() -> sigv4.SigV4Request:
    return sign(form_post(), region="eu-west-1").parse()


def scope_error(req, **where) -> AwsError:
    with pytest.raises(AwsError) as caught:
        sigv4.check_scope(req, **{"region": "eu-west-1", "service": "sts", **where})
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)
    return caught.value


def at(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def time_error(req, now) -> AwsError:
    with pytest.raises(AwsError) as caught:
        sigv4.check_time(req, now)
    assert (caught.value.code, caught.value.status) == ("SignatureDoesNotMatch", 403)
    return caught.value


# --- scope ----------------------------------------------------------------------------------


def test_scope_ok(req):
    sigv4.check_scope(req, region="eu-west-1", service="sts")


def test_wrong_region_short_sts_text_with_trailing_space(req):
    assert MSG_SCOPE_REGION == "Credential should be scoped to a valid region. "
    assert scope_error(req, region="us-east-1").message == "Credential should be scoped to a valid region. "


def test_wrong_service(req):
    assert scope_error(req, service="iam").message == "Credential should be scoped to correct service: 'iam'. "
    wrong = replace(req, service="s3")
    assert scope_error(wrong).message == "Credential should be scoped to correct service: 'sts'. "


def test_region_and_service_concatenated_region_first(req):
    assert scope_error(replace(req, region="us-west-2", service="ec2")).message == (
        "Credential should be scoped to a valid region. Credential should be scoped to correct service: 'sts'. "
    )


def test_wrong_terminator(req):
    assert scope_error(replace(req, terminator="aws5_request")).message == (
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
    )


def test_scope_date_must_match_request_date(req):
    assert scope_error(replace(req, scope_date="20150831")).message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20150831' != '20150830', from '20150830T123600Z'."
    )


def test_every_scope_problem_in_one_message(req):
    bad = replace(req, scope_date="foobar", region="wrong-region", service="svc", terminator="x")
    assert scope_error(bad).message == (
        "Credential should be scoped to a valid region. "
        "Credential should be scoped to correct service: 'sts'. "
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'x'. "
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: 'foobar' != '20150830', from '20150830T123600Z'."
    )


def test_scope_compare_is_case_sensitive(req):
    assert scope_error(replace(req, region="EU-west-1")).message == MSG_SCOPE_REGION


# --- clock ----------------------------------------------------------------------------------


def test_expired_text_aws_cli_6676(req):
    old = replace(req, amz_date="20220127T001427Z", timestamp=at("20220127T001427Z"))
    assert time_error(old, at("20220127T015928Z")).message == (
        "Signature expired: 20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - 15 min.)"
    )


def test_not_yet_current_text(req):
    future = replace(req, amz_date="20210112T194419Z", timestamp=at("20210112T194419Z"))
    assert time_error(future, at("20210112T071125Z")).message == (
        "Signature not yet current: 20210112T194419Z is still later than 20210112T072625Z (20210112T071125Z + 15 min.)"
    )


@pytest.mark.parametrize("seconds", [0, 1, 899, 900, -1, -899, -900])
def test_within_fifteen_minutes_inclusive(req, seconds):
    sigv4.check_time(req, SIGNED_AT_UTC + dt.timedelta(seconds=seconds))


def test_one_second_past_the_window(req):
    assert time_error(req, SIGNED_AT_UTC + dt.timedelta(seconds=901)).message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    )
    assert time_error(req, SIGNED_AT_UTC - dt.timedelta(seconds=901)).message == (
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
    )


def test_now_is_truncated_to_whole_seconds(req):
    sigv4.check_time(req, SIGNED_AT_UTC + dt.timedelta(seconds=900, microseconds=999_999))
    assert time_error(req, SIGNED_AT_UTC + dt.timedelta(seconds=901, microseconds=1)).message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    )


def test_naive_now_is_utc_and_other_zones_convert(req):
    sigv4.check_time(req, SIGNED_AT + dt.timedelta(minutes=10))
    cest = dt.timezone(dt.timedelta(hours=2))
    sigv4.check_time(req, SIGNED_AT_UTC.astimezone(cest))
    with pytest.raises(AwsError):
        sigv4.check_time(req, SIGNED_AT.replace(tzinfo=cest))  # 12:36+02:00 is 10:36Z


# --- presigned URLs: 15 minutes from X-Amz-Date, whatever X-Amz-Expires says ---------------


@pytest.mark.parametrize("expires", [1, 60, 900, 3600, 604800])
def test_presigned_window_ignores_x_amz_expires(expires):
    wire = presign(
        AWSRequest("GET", "https://sts.amazonaws.com/", params={"Action": "GetCallerIdentity"}),
        expires=expires,
    )
    presigned = wire.parse()
    assert presigned.expires == expires
    assert wire.verify() is True
    sigv4.check_time(presigned, SIGNED_AT_UTC + dt.timedelta(seconds=900))  # past a short Expires
    assert time_error(presigned, SIGNED_AT_UTC + dt.timedelta(seconds=901)).message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    )
    assert time_error(presigned, SIGNED_AT_UTC + dt.timedelta(hours=2)).message == (
        "Signature expired: 20150830T123600Z is now earlier than 20150830T142100Z (20150830T143600Z - 15 min.)"
    )


def test_presigned_from_the_future_is_not_yet_current():
    wire = presign(AWSRequest("GET", "https://sts.amazonaws.com/"), expires=60)
    assert time_error(wire.parse(), SIGNED_AT_UTC - dt.timedelta(minutes=16)).message == (
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)"
    )
