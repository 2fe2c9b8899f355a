"""Decode stage on real files of every container podtools claims to read."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from podtools import audio
from podtools.errors import InputError
from speech import encode, say, write_wav

SAMPLE_MP3 = Path(__file__).resolve().parent.parent / "samples" / "episode.mp3"

FORMATS = {
    "mp3": [], "m4a": ["-c:a", "aac"], "wav": [], "flac": [], "ogg": ["-c:a", "libvorbis"],
    "opus": ["-c:a", "libopus"], "webm": ["-c:a", "libopus"],
    "mp4": ["-f", "lavfi", "-i", "color=c=black:s=64x64:r=5", "-shortest", "-c:a", "aac", "-c:v", "mpeg4"],
}


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audio")
    clip = say("Testing the decoder with a short sentence about GPT four.", "slt", tmp)
    return write_wav(tmp / "speech.wav", clip), len(clip) / 16000


@pytest.mark.parametrize("ext", list(FORMATS))
def test_decode_every_container(speech_wav, tmp_path, ext):
    wav, seconds = speech_wav
    src = tmp_path / f"clip.{ext}"
    args = FORMATS[ext]
    if ext == "mp4":  # video + audio: the extra input goes before the output options
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), *args, str(src)], check=True)
    else:
        encode(wav, src, *args)
    info = audio.probe(src)
    assert info.duration == pytest.approx(seconds, abs=0.15)
    pcm = audio.decode(src)
    assert pcm.dtype == np.float32 and pcm.ndim == 1
    assert len(pcm) / audio.SAMPLE_RATE == pytest.approx(seconds, abs=0.15)
    assert 0.05 < np.abs(pcm).max() <= 1.0


def test_stereo_44k_is_downmixed(speech_wav, tmp_path):
    wav, seconds = speech_wav
    src = encode(wav, tmp_path / "stereo.flac", "-ac", "2", "-ar", "44100")
    assert audio.probe(src).channels == 2
    assert len(audio.decode(src)) == pytest.approx(seconds * 16000, abs=200)


def _bad(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "text.mp3").write_text("this is not audio\n" * 50)
    (tmp_path / "folder.mp3").mkdir()
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("missing.mp3", "file not found"),
    ("folder.mp3", "is a directory"),
    ("empty.mp3", "file is empty"),
    ("text.mp3", "not an audio or video file"),
])
def test_bad_files(tmp_path, name, message):
    _bad(tmp_path)
    with pytest.raises(InputError) as exc:
        audio.decode(tmp_path / name)
    assert message in str(exc.value) and name in str(exc.value)


def test_truncated_mp3(speech_wav, tmp_path):
    wav, _ = speech_wav
    mp3 = encode(wav, tmp_path / "full.mp3")
    data = mp3.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        audio.decode(cut)


def test_video_without_audio(tmp_path):
    src = tmp_path / "silent-video.mp4"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:r=5:d=1",
                    "-c:v", "mpeg4", str(src)], check=True)
    with pytest.raises(InputError, match="no audio stream"):
        audio.probe(src)


# -- memory (issue 14: a 3-hour episode under 2 GB; its decoded audio alone is 0.7 GB) ----------------


def test_long_file_is_decoded_into_one_array(tmp_path):
    """Decoding holds the audio once: the traced (numpy) memory of decoding 10 minutes peaks at
    about the size of the result, not at twice it (frames collected, then joined). Measured with
    tracemalloc, so it does not depend on the machine's speed or on other processes."""
    import tracemalloc

    src = tmp_path / "ten-minutes.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-stream_loop", "-1", "-i", str(SAMPLE_MP3), "-t", "600",
                    "-c", "copy", str(src)], check=True)
    tracemalloc.start()
    try:
        pcm = audio.decode(src)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pcm.dtype == np.float32 and len(pcm) / audio.SAMPLE_RATE == pytest.approx(600, abs=1)
    assert peak < 1.3 * pcm.nbytes, f"decode peaked at {peak / pcm.nbytes:.2f}x the decoded audio"


def test_decode_buffer_grows_past_a_header_that_says_too_little():
    """A header that declares less than the stream holds: the array grows, nothing is lost or
    reordered, and the result is trimmed to what was decoded."""
    buf = audio._Buffer(declared=0.01, sample_rate=1000)  # room for 11 samples
    parts = [np.arange(i * 7, i * 7 + 7, dtype=np.float32) for i in range(50)]
    for part in parts:
        buf.append(part)
    out = buf.finish()
    assert out.dtype == np.float32 and np.array_equal(out, np.concatenate(parts))


@pytest.mark.parametrize("ext,args", [("mp3", ["-id3v2_version", "4"]), ("m4a", ["-c:a", "aac"])])
def test_the_date_tag_is_the_episodes_recording_date(speech_wav, tmp_path, ext, args):
    """ID3 TDRC / MP4 \u00a9day, written by ffmpeg and read back from the headers: the mentions stage
    uses it (a model released after the episode is no guess for what is said in it)."""
    wav, _ = speech_wav
    src = tmp_path / f"dated.{ext}"
    encode(wav, src, *args, "-metadata", "date=2024-09-20", "-metadata", "title=Weekly show")
    info = audio.probe(src)
    assert (info.title, info.recorded.date().isoformat()) == ("Weekly show", "2024-09-20")
    undated = tmp_path / f"undated.{ext}"
    encode(wav, undated, *args)
    assert audio.probe(undated).recorded is None
    # a year alone (ID3v2.3 TYER) or a date not written as one makes up no day
    for i, tag in enumerate(("2024", "20240920", "2024-13")):
        vague = tmp_path / f"vague{i}.{ext}"
        encode(wav, vague, *args, "-metadata", f"date={tag}")
        assert audio.probe(vague).recorded is None, tag
