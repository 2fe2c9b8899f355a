"""The voice library: enroll, list, remove; speakers named by voice on real recordings; bad
libraries and bad enrollments refused with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import realvoices

pytestmark = pytest.mark.skipif(realvoices.folder() is None, reason="needs ../shared/realspeech")


def run(*args):
    from podtools.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def write_wav(path, samples):
    import soundfile as sf

    sf.write(str(path), samples, 16000, subtype="PCM_16")
    return path


def clip(name: str, spans) -> np.ndarray:
    x = realvoices.audio(name)
    return np.concatenate([x[int(s * 16000):int(e * 16000)] for s, e in spans])


# The host of host2guests, recorded in several rooms: enrolled from the first minute, then
# recognized in the rest of the recording (other rooms), while the two guests stay unnamed.
HOST_EARLY = [(0.41, 5.77), (10.31, 25.27), (29.05, 52.09)]


@pytest.fixture()
def library(tmp_path):
    folder = tmp_path / "voices"
    wav = write_wav(tmp_path / "host.wav", clip("host2guests", HOST_EARLY))
    result = run("voices", "add", "Maria Host", str(wav), "--voices", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def test_add_list_remove(library, tmp_path):
    result = run("voices", "list", "--voices", str(library), "--json")
    doc = json.loads(result.output)
    assert [v["name"] for v in doc["voices"]] == ["Maria Host"]
    assert doc["encoder"] == "campplus"
    stored = json.loads((library / "voices.json").read_text())
    assert len(stored["voices"][0]["embedding"]) == stored["dim"] == 192  # a voiceprint, no audio
    assert 30 <= stored["voices"][0]["seconds"] <= 60
    # the same name twice is refused, --replace replaces
    wav = write_wav(tmp_path / "again.wav", clip("host2guests", HOST_EARLY))
    twice = run("voices", "add", "maria host", str(wav), "--voices", str(library))
    assert twice.exit_code != 0 and "already in the library" in twice.output
    assert run("voices", "add", "Maria Host", str(wav), "--voices", str(library), "--replace").exit_code == 0
    assert run("voices", "remove", "Maria Host", "--voices", str(library)).exit_code == 0
    assert json.loads(run("voices", "list", "--voices", str(library), "--json").output)["voices"] == []
    gone = run("voices", "remove", "Maria Host", "--voices", str(library))
    assert gone.exit_code != 0 and "no voice named" in gone.output


def test_recurring_voice_is_named_and_guests_are_not(library):
    """A later stretch of the recording (52-150 s: other rooms, two guest turns in it) is a new
    'episode': the host is named from the library, with a score; the guests stay unnamed."""
    from podtools.diarize import DiarizeOptions
    from podtools.diarize.stage import diarize_episode
    from podtools.models import Episode

    audio = realvoices.audio("host2guests")[int(52.0 * 16000):int(150.0 * 16000)]
    episode = Episode(id="1" * 64, source="later.wav", duration=len(audio) / 16000)
    out = diarize_episode(episode, audio, DiarizeOptions(device="cpu", voices=str(library), infer_names=False))
    named = {sp.id: sp for sp in out.speakers if sp.name}
    assert [sp.name for sp in named.values()] == ["Maria Host"]
    host = next(iter(named.values()))
    assert host.name_source == "matched" and 0.8 <= host.match_score <= 1.0
    assert host.talk_time > 0.7 * sum(sp.talk_time for sp in out.speakers)  # the host is the one who talks most
    assert len(out.speakers) == 3  # guests 52.4-59.6 and 66.1-74.1 s, unnamed
    # --no-match-voices leaves everyone unnamed
    off = diarize_episode(episode, audio, DiarizeOptions(device="cpu", voices=str(library), infer_names=False,
                                                          match_voices=False))
    assert not any(sp.name for sp in off.speakers)


def test_impostors_are_not_matched(tmp_path):
    """Voices enrolled from three conversations are not found in four others (other people)."""
    from podtools.diarize import DiarizeOptions
    from podtools.diarize.stage import diarize_episode
    from podtools.models import Episode

    folder = tmp_path / "voices"
    for name in ("dev2a", "dev3a", "dev4b"):
        ref = realvoices.references()[name]
        for label in ref.labels():
            spans = [(s.start, s.end) for s in ref.label_timeline(label)]
            if sum(e - s for s, e in spans) < 8:
                continue
            wav = write_wav(tmp_path / f"{name}-{label}.wav", clip(name, spans))
            assert run("voices", "add", f"{name} {label}", str(wav), "--voices", str(folder)).exit_code == 0
    enrolled = json.loads(run("voices", "list", "--voices", str(folder), "--json").output)["voices"]
    assert len(enrolled) >= 6
    for name in ("dev2b", "dev3b", "dev4a"):
        audio = realvoices.audio(name)
        ep = Episode(id="2" * 64, source=name, duration=len(audio) / 16000)
        out = diarize_episode(ep, audio, DiarizeOptions(device="cpu", voices=str(folder), infer_names=False))
        assert not [sp.name for sp in out.speakers if sp.name], name


def test_learn_voices_then_match(tmp_path):
    """--learn-voices enrolls given names; the next episode with that voice is named by it."""
    from podtools.diarize import DiarizeOptions
    from podtools.diarize.stage import diarize_episode
    from podtools.models import Episode

    folder = tmp_path / "voices"
    audio = realvoices.audio("host2guests")
    first = audio[: int(52.0 * 16000)]
    ep = Episode(id="3" * 64, source="first.wav", duration=len(first) / 16000)
    out = diarize_episode(ep, first, DiarizeOptions(device="cpu", voices=str(folder), learn_voices=True,
                                                    names=["Maria", "Guest One", "Guest Two"]))
    assert {sp.name for sp in out.speakers} == {"Maria", "Guest One", "Guest Two"}
    learned = json.loads((folder / "voices.json").read_text())["voices"]
    assert "Maria" in [v["name"] for v in learned]  # the guests spoke less than the 5 s needed, or more
    later = audio[int(74.0 * 16000):int(150.0 * 16000)]
    ep2 = Episode(id="4" * 64, source="second.wav", duration=len(later) / 16000)
    out2 = diarize_episode(ep2, later, DiarizeOptions(device="cpu", voices=str(folder), infer_names=False))
    assert [(sp.name, sp.name_source) for sp in out2.speakers if sp.name] == [("Maria", "matched")]


# -- bad input ----------------------------------------------------------------------------------


def test_too_short_and_silent_enrollments(tmp_path):
    folder = tmp_path / "voices"
    short = write_wav(tmp_path / "short.wav", clip("host2guests", [(1.0, 3.0)]))
    result = run("voices", "add", "Shorty", str(short), "--voices", str(folder))
    assert result.exit_code != 0 and "too little speech" in result.output and "short.wav" in result.output
    silent = write_wav(tmp_path / "silence.wav", np.zeros(16000 * 10, np.float32))
    result = run("voices", "add", "Nobody", str(silent), "--voices", str(folder))
    assert result.exit_code != 0 and "no speech found" in result.output
    assert not (folder / "voices.json").exists() or json.loads((folder / "voices.json").read_text())["voices"] == []


def test_bad_libraries(tmp_path, library):
    from podtools.diarize import DiarizeOptions
    from podtools.diarize.stage import check_voice_library
    from podtools.errors import InputError

    # a file where the folder should be
    a_file = tmp_path / "notafolder"
    a_file.write_text("x")
    result = run("voices", "list", "--voices", str(a_file))
    assert result.exit_code != 0 and "must be a folder" in result.output
    # corrupt JSON, and an entry with a damaged embedding
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "voices.json").write_text("{not json")
    result = run("voices", "list", "--voices", str(bad))
    assert result.exit_code != 0 and "not JSON" in result.output and "Traceback" not in result.output
    doc = json.loads((library / "voices.json").read_text())
    doc["voices"][0]["embedding"] = doc["voices"][0]["embedding"][:10]
    (bad / "voices.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="damaged"):
        check_voice_library(DiarizeOptions(voices=str(bad)))
    # a library of an encoder this podtools does not have is refused, never compared
    doc = json.loads((library / "voices.json").read_text())
    (bad / "voices.json").write_text(json.dumps({**doc, "encoder": "ecapa-tdnn"}))
    with pytest.raises(InputError, match="ecapa-tdnn"):
        check_voice_library(DiarizeOptions(voices=str(bad)))
    # enrolling with another encoder than the library's is refused
    wav = write_wav(tmp_path / "h.wav", clip("host2guests", HOST_EARLY))
    result = run("voices", "add", "Other", str(wav), "--voices", str(library), "--encoder", "resemblyzer")
    assert result.exit_code != 0 and "cannot be compared" in result.output
    # diarize fails on a bad library before decoding, with one line naming it
    result = run("diarize", str(wav), "--voices", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code != 0 and str(bad) in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_enroll_from_a_diarized_episode(tmp_path):
    """`voices add NAME EPISODE_DIR --speaker SPEAKER_xx` takes that speaker's turns from the
    episode and its audio; without --speaker, a several-speaker episode is refused."""
    wav = write_wav(tmp_path / "ep.wav", realvoices.audio("host2guests")[: int(75 * 16000)])
    out = tmp_path / "ep"
    result = run("diarize", str(wav), "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    speakers = json.loads(result.output.strip().splitlines()[-1])["speakers"]
    host = max(speakers, key=lambda sp: sp["talk_time"])["id"]
    folder = tmp_path / "voices"
    refused = run("voices", "add", "Maria", str(out), "--voices", str(folder))
    assert refused.exit_code != 0 and "--speaker" in refused.output and "SPEAKER_00" in refused.output
    added = run("voices", "add", "Maria", str(out), "--speaker", host, "--voices", str(folder))
    assert added.exit_code == 0, added.output
    voice = json.loads((folder / "voices.json").read_text())["voices"][0]
    assert voice["name"] == "Maria" and voice["seconds"] >= 30
    # the audio moved away: one line saying so, and how to give it
    wav.rename(tmp_path / "moved.wav")
    moved = run("voices", "add", "Maria2", str(out / "episode.json"), "--speaker", host, "--voices", str(folder))
    assert moved.exit_code != 0 and "--audio" in moved.output
    again = run("voices", "add", "Maria2", str(out / "episode.json"), "--speaker", host, "--voices", str(folder),
                "--audio", str(tmp_path / "moved.wav"))
    assert again.exit_code == 0, again.output
