import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/speech.py


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Downloads and stage caches of the tests go to a temp folder, never the user's cache, and
    the default voice library is an empty temp folder, never the user's."""
    os.environ["PODTOOLS_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["PODTOOLS_VOICES_DIR"] = str(tmp_path_factory.mktemp("voices"))
    yield


@pytest.fixture(scope="session")
def sample_mp3() -> Path:
    return SAMPLES / "episode.mp3"


@pytest.fixture(scope="session")
def sample_script() -> dict:
    return json.loads((SAMPLES / "script.json").read_text())


@pytest.fixture(scope="session")
def embedded_model():
    """The real embedded Whisper tiny.en, loaded once for the whole test session."""
    from podtools.asr import TranscribeOptions, load_model

    return load_model(TranscribeOptions(device="cpu"))


@pytest.fixture(scope="session")
def sample_ingest(tmp_path_factory, sample_mp3, embedded_model):
    """`ingest` of the bundled sample, run once: (IngestResult, output folder)."""
    from podtools.pipeline import ingest

    out = tmp_path_factory.mktemp("sample-out")
    result = ingest(str(sample_mp3), out, model=embedded_model)
    return result, out
