"""Real synthesized speech for tests: Debian flite and espeak-ng voices, mixed with numpy."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FLITE_VOICES = ("rms", "awb", "slt", "kal16")  # kal and kal16 are the same speaker
RATE = 16_000


def have_flite() -> bool:
    return shutil.which("flite") is not None


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        rate, n = w.getframerate(), w.getnframes()
        data = np.frombuffer(w.readframes(n), dtype=np.int16).astype(np.float32) / 32768.0
        if w.getnchannels() > 1:
            data = data.reshape(-1, w.getnchannels()).mean(axis=1)
    if rate != RATE:
        idx = np.arange(0, len(data), rate / RATE)
        data = np.interp(idx, np.arange(len(data)), data).astype(np.float32)
    return data


def say(text: str, voice: str, tmp: Path) -> np.ndarray:
    """Synthesize ``text`` with a flite voice (or ``espeak:<voice>``) -> 16 kHz float32."""
    tmp.mkdir(parents=True, exist_ok=True)
    out = tmp / f"say-{abs(hash((text, voice)))}.wav"
    if voice.startswith("espeak:"):
        subprocess.run(["espeak-ng", "-v", voice.split(":", 1)[1], "-w", str(out), text], check=True)
    else:
        subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(out)], check=True)
    return _read_wav(out)


@dataclass
class Turn:
    speaker: str
    start: float
    end: float
    text: str


def conversation(lines: list[tuple[str, str]], tmp: Path, pause: float = 0.5) -> tuple[np.ndarray, list[Turn]]:
    """Render (voice, text) turns one after another with ``pause`` seconds between them."""
    pieces: list[np.ndarray] = []
    turns: list[Turn] = []
    t = 0.0
    gap = np.zeros(int(pause * RATE), np.float32)
    for voice, text in lines:
        audio = say(text, voice, tmp)
        turns.append(Turn(voice, t, t + len(audio) / RATE, text))
        pieces += [audio, gap]
        t += len(audio) / RATE + pause
    return np.concatenate(pieces), turns


def write_wav(path: Path, audio: np.ndarray, rate: int = RATE) -> Path:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def encode(src: Path, dest: Path, *args: str) -> Path:
    """ffmpeg-encode ``src`` to ``dest`` (format from the extension)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), *args, str(dest)], check=True)
    return dest
