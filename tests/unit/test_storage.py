"""S3 guarantees: write-once never overwrites, missing objects read as None, move keeps the object."""

from rps_core import storage

BUCKET = "rps-test"


def test_write_once_keeps_the_first_object(s3):
    assert storage.write_once(BUCKET, "k", b"first", client=s3) is True
    assert storage.write_once(BUCKET, "k", b"second", client=s3) is False
    assert storage.get_bytes(BUCKET, "k", client=s3) == b"first"


def test_missing_objects_read_as_none(s3):
    assert storage.get_bytes(BUCKET, "nope", client=s3) is None
    assert storage.get_json(BUCKET, "nope", client=s3) is None
    assert storage.exists(BUCKET, "nope", client=s3) is False


def test_json_round_trip_and_move(s3):
    storage.put_json(BUCKET, "a.json", {"x": 1}, metadata={"collected-at": "2013-01-01T00:00"}, client=s3)
    assert storage.exists(BUCKET, "a.json", client=s3)
    storage.move(BUCKET, "a.json", "q/a.json", client=s3)
    assert storage.get_json(BUCKET, "q/a.json", client=s3) == {"x": 1}
    assert not storage.exists(BUCKET, "a.json", client=s3)
    head = s3.head_object(Bucket=BUCKET, Key="q/a.json")
    assert head["Metadata"]["collected-at"] == "2013-01-01T00:00"
