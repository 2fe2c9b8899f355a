"""The `podtools` command: real runs through click's CliRunner, bad inputs, presets."""

import http.server
import json
import logging
import subprocess
import sys
import threading

import numpy as np
import pytest
from click.testing import CliRunner

from podtools.cli import cli
from podtools.pipeline import available_pipelines, load_pipeline, with_overrides
from readme import INGEST_FILES
from speech import encode, say, write_wav


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clips")
    speech = say("Welcome back. Today we compare GPT four and Llama three.", "awb", tmp)
    files = {
        "speech": encode(write_wav(tmp / "speech.wav", speech), tmp / "speech.mp3"),
        "one_second": encode(write_wav(tmp / "one.wav", speech[:16000]), tmp / "one.mp3"),
        "silence": encode(write_wav(tmp / "silence.wav", np.zeros(16000 * 4, np.float32)), tmp / "silence.mp3"),
    }
    (tmp / "empty.mp3").write_bytes(b"")
    (tmp / "notes.mp3").write_text("shopping list\n" * 100)
    (tmp / "adir").mkdir()
    data = files["speech"].read_bytes()
    (tmp / "truncated.mp3").write_bytes(data[: len(data) // 3])
    return tmp, files


def run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result


def test_help_is_fast_and_light():
    code = ("import sys; from podtools.cli import cli; "
            "from click.testing import CliRunner; r = CliRunner().invoke(cli, ['ingest', '--help']); "
            "assert r.exit_code == 0, r.output; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
            "heavy = [m for m in ('torch', 'numpy', 'faster_whisper', 'ctranslate2', 'spacy', 'av', 'matplotlib') "
            "if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ingest_json_output(clips, tmp_path):
    _, files = clips
    r = run("ingest", files["speech"], "-o", tmp_path / "out", "--json", "--sequential")
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["segments"] >= 1 and 3 < info["duration"] < 10
    text = (tmp_path / "out" / "transcript.txt").read_text().lower()
    assert "welcome back" in text


def test_one_second_clip(clips, tmp_path):
    _, files = clips
    r = run("transcribe", files["one_second"], "-o", tmp_path, "-q")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "transcript.vtt").read_text().startswith("WEBVTT")


def test_silence_succeeds_and_says_so(clips, tmp_path):
    _, files = clips
    r = run("ingest", files["silence"], "-o", tmp_path)
    assert r.exit_code == 0, r.output
    assert "no speech detected" in r.stderr
    assert "No speech was detected" in (tmp_path / "transcript.md").read_text()
    assert json.loads((tmp_path / "episode.json").read_text())["segments"] == []


@pytest.mark.parametrize("name, code, message", [
    ("missing.mp3", 2, "file not found"),
    ("adir", 2, "is a directory"),
    ("empty.mp3", 2, "file is empty"),
    ("notes.mp3", 2, "not an audio or video file"),
    ("truncated.mp3", 2, "truncated"),
])
def test_bad_inputs(clips, tmp_path, name, code, message):
    tmp, _ = clips
    (tmp_path / "episode.json").write_text("previous run")
    r = run("ingest", tmp / name, "-o", tmp_path)
    assert r.exit_code == code
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and name in lines[0], r.stderr
    assert "Traceback" not in r.output
    assert (tmp_path / "episode.json").read_text() == "previous run"  # nothing already written is lost


@pytest.mark.parametrize("args, code, message", [
    (["--model", "whisper-xxl"], 4, "unknown model 'whisper-xxl'"),
    (["--device", "cuda"], 5, "no CUDA GPU"),
    (["--pipeline", "nonesuch"], 6, "unknown pipeline 'nonesuch'"),
    (["--batch-size", "0"], 6, "batch_size"),
    (["--diarize-backend", "pyannote", "--pyannote-pipeline", "/nonexistent/pyannote"], 2,
     "/nonexistent/pyannote: pyannote pipeline not found"),
])
def test_bad_options(clips, tmp_path, args, code, message):
    if "cuda" in args:
        import ctranslate2

        if ctranslate2.get_cuda_device_count():
            pytest.skip("a GPU is present")
    _, files = clips
    r = run("ingest", files["speech"], "-o", tmp_path, *args)
    assert r.exit_code == code, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and message in r.stderr


def test_unwritable_output(clips, tmp_path):
    _, files = clips
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run("ingest", files["speech"], "-o", blocker / "sub")
    assert r.exit_code == 3 and "not writable" in r.stderr and str(blocker) in r.stderr
    r = run("ingest", files["speech"], "-o", "/proc/podtools-out")
    assert r.exit_code == 3 and "/proc/podtools-out" in r.stderr


@pytest.fixture()
def http_server(clips):
    tmp, _ = clips

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(tmp), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_url_input(http_server, tmp_path):
    r = run("transcribe", f"{http_server}/speech.mp3", "-o", tmp_path, "-q", "--allow-private")  # loopback server
    assert r.exit_code == 0, r.output
    assert "welcome back" in (tmp_path / "transcript.txt").read_text().lower()


def test_url_404(http_server, tmp_path):
    r = run("ingest", f"{http_server}/nope.mp3", "-o", tmp_path, "--allow-private")
    assert r.exit_code == 2
    assert "HTTP 404" in r.stderr and "nope.mp3" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_presets_and_overrides(tmp_path):
    assert {"default", "gpu"} <= set(available_pipelines())
    gpu = load_pipeline("gpu")
    assert gpu.transcribe.model == "large-v3-turbo" and gpu.transcribe.compute_type == "float16"
    assert gpu.transcribe.batched and gpu.transcribe.device == "cuda"
    assert with_overrides(gpu, {"transcribe": {"model": "embedded", "device": None}}).transcribe.model == "embedded"
    custom = tmp_path / "mine.toml"
    custom.write_text('name = "mine"\n[transcribe]\nbeam_size = 2\n')
    assert load_pipeline(custom).transcribe.beam_size == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[transcribe\n")
    from podtools.errors import ConfigError

    with pytest.raises(ConfigError, match="bad.toml"):
        load_pipeline(bad)
    bad.write_text("[transcribe]\nbeam_sise = 3\n")
    with pytest.raises(ConfigError, match="beam_sise"):
        load_pipeline(bad)


def test_transcript_cache(clips, tmp_path, caplog):
    """A second ingest of the same audio with the same settings reuses the transcript: the
    model is not run again (the first run's provenance, its finish time included, comes back)."""
    import os
    from pathlib import Path

    _, files = clips
    entries = Path(os.environ["PODTOOLS_CACHE_DIR"]) / "stages" / "transcribe"
    r1 = run("transcribe", files["speech"], "-o", tmp_path / "a", "-q")
    assert r1.exit_code == 0, r1.output
    assert len(list(entries.glob("*.json"))) == 1  # this test's own cache was empty before
    caplog.set_level(logging.INFO, logger="podtools.asr")
    r2 = run("transcribe", files["speech"], "-o", tmp_path / "b", "-q")
    assert r2.exit_code == 0, r2.output
    assert [r.getMessage() for r in caplog.records if "reused" in r.getMessage()] == [
        f"{files['speech']}: transcript reused from the cache (same audio and settings)"]
    caplog.clear()
    a = json.loads((tmp_path / "a" / "episode.json").read_text())
    b = json.loads((tmp_path / "b" / "episode.json").read_text())
    assert a["segments"] == b["segments"] and a["provenance"] == b["provenance"]
    r3 = run("transcribe", files["speech"], "-o", tmp_path / "c", "-q", "--no-cache", "--beam-size", "1")
    c = json.loads((tmp_path / "c" / "episode.json").read_text())
    assert r3.exit_code == 0 and c["provenance"]["transcribe"]["settings"]["beam_size"] == 1
    assert not [r for r in caplog.records if "reused" in r.getMessage()]
    assert c["provenance"]["transcribe"]["finished"] != a["provenance"]["transcribe"]["finished"]
    assert len(list(entries.glob("*.json"))) == 1  # --no-cache neither reads nor writes it


def test_ingest_without_output_folder(clips, tmp_path, monkeypatch):
    """Without -o, ingest writes into a folder named after the episode, in the current folder (README)."""
    _, files = clips
    monkeypatch.chdir(tmp_path)
    r = run("ingest", files["speech"], "-q")
    assert r.exit_code == 0, r.output
    assert [p.name for p in tmp_path.iterdir()] == ["speech"]  # nothing else written here
    assert {p.name for p in (tmp_path / "speech").iterdir()} == INGEST_FILES
    assert "welcome back" in (tmp_path / "speech" / "transcript.txt").read_text().lower()
    assert json.loads((tmp_path / "speech" / "episode.json").read_text())["source"] == str(files["speech"])


def test_compute_type(clips, tmp_path):
    """--compute-type reaches the model: float32 weights give other word probabilities than the
    default int8 on CPU (and a transcript of their own, not the int8 one from the cache)."""
    _, files = clips
    r = run("transcribe", files["speech"], "-o", tmp_path / "int8", "-q")
    assert r.exit_code == 0, r.output
    r = run("transcribe", files["speech"], "-o", tmp_path / "f32", "-q", "--compute-type", "float32")
    assert r.exit_code == 0, r.output
    eps = {n: json.loads((tmp_path / n / "episode.json").read_text()) for n in ("int8", "f32")}
    assert eps["int8"]["provenance"]["transcribe"]["settings"]["compute_type"] == "int8"
    assert eps["f32"]["provenance"]["transcribe"]["settings"]["compute_type"] == "float32"
    probs = {n: [w["probability"] for s in ep["segments"] for w in s["words"]] for n, ep in eps.items()}
    assert probs["int8"] and probs["f32"] and probs["int8"] != probs["f32"]
    assert "welcome back" in (tmp_path / "f32" / "transcript.txt").read_text().lower()
    r = run("transcribe", files["speech"], "-o", tmp_path / "bad", "--compute-type", "int4")
    assert r.exit_code == 4 and "Traceback" not in r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "compute type: int4" in r.stderr, r.stderr


def test_ingest_url_end_to_end(tmp_path):
    """`ingest URL`: the episode is downloaded to the cache first ($PODTOOLS_CACHE_DIR, README),
    then goes through the whole pipeline like a local file; the episode names its URL."""
    import os
    from pathlib import Path

    from feedserver import FeedServer, Route

    tmp = tmp_path / "audio"
    tmp.mkdir()
    mp3 = encode(write_wav(tmp / "talk.wav", say("Welcome back. Today we compare GPT four and Llama three.", "awb", tmp)),
                 tmp / "talk.mp3")
    with FeedServer() as server:
        url = server.add("/episodes/talk.mp3", Route(mp3.read_bytes()))
        r = run("ingest", url, "-o", tmp_path / "out", "-q", "--allow-private")  # the test server is on loopback
        hits = server.hits("/episodes/talk.mp3")
    assert r.exit_code == 0, r.output
    assert len(hits) == 1
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == INGEST_FILES
    ep = json.loads((out / "episode.json").read_text())
    assert ep["source"] == url
    import hashlib

    assert ep["id"] == hashlib.sha256(mp3.read_bytes()).hexdigest()  # the id is the downloaded audio's
    cached = [p for p in Path(os.environ["PODTOOLS_CACHE_DIR"]).rglob("*") if p.is_file()
              and p.read_bytes() == mp3.read_bytes()]
    assert cached  # the download is in the cache, whole
    assert "welcome back" in (out / "transcript.txt").read_text().lower()
