import contextlib
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/speech.py

# Settings a developer's shell may carry that would make a test reach a real LLM server, use
# their key or read their config file: removed for the whole session and again for every test.
LEAKY_PREFIXES = ("PODTOOLS_LLM_", "OPENAI_", "AZURE_OPENAI_", "OPENROUTER_", "VLLM_")
LEAKY_NAMES = ("PODTOOLS_CONFIG", "PODTOOLS_CATALOG", "PODTOOLS_DEBUG")


def leaky_variables(environ=os.environ) -> list[str]:
    return sorted(k for k in environ if k.startswith(LEAKY_PREFIXES) or k in LEAKY_NAMES)


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory):
    """What runs outside any one test (session and module fixtures: servers, a shared ingest,
    a batch's first run) sees no LLM settings of the developer's, a config folder that is an
    empty temp folder, and temp cache and voice folders, never the user's."""
    saved = dict(os.environ)
    for name in leaky_variables():
        del os.environ[name]
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("session-config"))
    os.environ["PODTOOLS_CACHE_DIR"] = str(tmp_path_factory.mktemp("session-cache"))
    os.environ["PODTOOLS_VOICES_DIR"] = str(tmp_path_factory.mktemp("session-voices"))
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _isolated_test(tmp_path_factory, monkeypatch):
    """Each test gets its own stage/download/LLM cache, config folder and voice library, so no
    test passes on a transcript or an answer that another test left behind (a test about the
    cache runs the same thing twice inside itself)."""
    for name in leaky_variables():
        monkeypatch.delenv(name)
    own = tmp_path_factory.mktemp("isolated")
    for var, sub in (("PODTOOLS_CACHE_DIR", "cache"), ("XDG_CONFIG_HOME", "config"),
                     ("PODTOOLS_VOICES_DIR", "voices")):
        (own / sub).mkdir()
        monkeypatch.setenv(var, str(own / sub))
    yield


@pytest.fixture(scope="session")
def own_cache(tmp_path_factory):
    """``with own_cache("name") as path:`` - a session or module fixture's private stage cache,
    so what it computes is neither shared with nor taken from any other fixture or test."""

    @contextlib.contextmanager
    def use(name: str):
        path = tmp_path_factory.mktemp(f"cache-{name}")
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PODTOOLS_CACHE_DIR", str(path))
            yield path

    return use


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

    return load_model(TranscribeOptions(model="embedded", device="cpu"))


@pytest.fixture(scope="session")
def sample_ingest(tmp_path_factory, sample_mp3, embedded_model, own_cache):
    """`ingest` of the bundled sample, run once and shared on purpose (many tests read its
    outputs): (IngestResult, output folder). Its cache is its own, so the run is a real one."""
    from podtools.pipeline import ingest

    out = tmp_path_factory.mktemp("sample-out")
    with own_cache("sample-ingest"):
        result = ingest(str(sample_mp3), out, model=embedded_model)
    return result, out
