"""S3 guarantees: write-once never overwrites, missing objects read as None, move keeps the object."""

import boto3
import pytest
from moto import mock_aws
from rps_core import storage
from rps_core.errors import ConflictError


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="rps-test")
        yield client


def test_write_once_keeps_the_first_object(s3):
    assert storage.write_once("rps-test", "k", b"first", client=s3) is True
    assert storage.write_once("rps-test", "k", b"second", client=s3) is False
    assert storage.get_bytes("rps-test", "k", client=s3) == b"first"
    with pytest.raises(ConflictError, match="s3://rps-test/k"):
        storage.require_new("rps-test", "k", b"third", client=s3)


def test_missing_objects_read_as_none(s3):
    assert storage.get_bytes("rps-test", "nope", client=s3) is None
    assert storage.get_json("rps-test", "nope", client=s3) is None
    assert storage.exists("rps-test", "nope", client=s3) is False


def test_json_round_trip_and_move(s3):
    storage.put_json("rps-test", "a.json", {"x": 1}, metadata={"collected-at": "2013-01-01T00:00"}, client=s3)
    assert storage.exists("rps-test", "a.json", client=s3)
    storage.move("rps-test", "a.json", "q/a.json", client=s3)
    assert storage.get_json("rps-test", "q/a.json", client=s3) == {"x": 1}
    assert not storage.exists("rps-test", "a.json", client=s3)
    head = s3.head_object(Bucket="rps-test", Key="q/a.json")
    assert head["Metadata"]["collected-at"] == "2013-01-01T00:00"
