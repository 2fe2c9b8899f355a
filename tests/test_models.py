import datetime as dt
import json

import jsonschema
import pytest

from podtools.errors import InputError
from podtools.models import SCHEMA_VERSION, Chapter, Episode, Mention, Segment, Speaker, StageRun, Summary, Word, json_schema
from podtools.resources import schema_path


def full_episode() -> Episode:
    words = [Word(start=0.0, end=0.4, text="Hello", probability=0.91, speaker="SPEAKER_00"),
             Word(start=0.41, end=0.9, text="Llama 3.1", probability=0.5, speaker="SPEAKER_00")]
    return Episode(
        id="ab" * 32, source="ep.mp3", title="Ep <1> & \"quotes\" — ünïcode 🦙",
        published=dt.datetime(2024, 7, 24, 12, 0, tzinfo=dt.timezone.utc), duration=93.123456789,
        language="en", speakers=[Speaker(id="SPEAKER_00", name="Alex", name_source="given", talk_time=0.9)],
        segments=[Segment(start=0.0, end=0.9, text="Hello Llama 3.1", speaker="SPEAKER_00", words=words)],
        chapters=[Chapter(start=0.0, end=93.1, title="Intro", source="given")],
        mentions=[Mention(canonical="Llama 3.1", kind="model", surface="Llama 3.1", start=0.41, end=0.9,
                          speaker="SPEAKER_00", chapter=0, confidence=0.97)],
        summaries={"episode": Summary(method="extractive", text="Hi.", bullets=["a", "b"])},
        provenance={"transcribe": StageRun(model="embedded", settings={"beam_size": 5}, version="x", seconds=1.5,
                                           finished=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))},
    )


def test_round_trip_is_exact(tmp_path):
    ep = full_episode()
    path = ep.save(tmp_path / "episode.json")
    back = Episode.load(path)
    assert back == ep
    assert back.to_json() == ep.to_json()
    assert back.duration == 93.123456789


def test_saved_file_validates_against_shipped_schema(tmp_path):
    ep = full_episode()
    ep.save(tmp_path / "episode.json")
    schema = json.loads(schema_path().read_text())
    jsonschema.validate(json.loads((tmp_path / "episode.json").read_text()), schema)
    # the shipped file is generated from the models: it must not drift from them
    assert schema == json.loads(json.dumps(json_schema()))


def test_schema_rejects_wrong_types():
    schema = json.loads(schema_path().read_text())
    bad = json.loads(full_episode().to_json())
    bad["segments"][0]["start"] = "zero"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize("text, message", [
    ("not json", "not valid JSON"),
    ("[]", "not a podtools episode.json"),
    (json.dumps({"schema_version": 99, "id": "x", "source": "y"}), "schema version 99"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "id": "x"}), "invalid episode.json at source"),
    (json.dumps({"schema_version": SCHEMA_VERSION, "id": "x", "source": "y", "bogus": 1}), "bogus"),
])
def test_bad_episode_json(tmp_path, text, message):
    p = tmp_path / "episode.json"
    p.write_text(text)
    with pytest.raises(InputError) as exc:
        Episode.load(p)
    assert str(p) in str(exc.value) and message in str(exc.value)


def test_atomic_save_keeps_old_file_on_failure(tmp_path, monkeypatch):
    ep = full_episode()
    path = ep.save(tmp_path / "episode.json")
    before = path.read_text()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        ep.model_copy(update={"title": "new"}).save(path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["episode.json"]  # no temp file left
