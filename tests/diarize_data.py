"""Synthesized multi-voice conversations with true speaker turns, for diarization tests and
``benchmarks/diarize.py``. Deterministic: the same seed gives the same audio and turns."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from speech import RATE, Turn, say

SENTENCES = [
    "Welcome back to the show, it is great to have everyone here today.",
    "The new open model came out on Tuesday and it is already at the top of the leaderboard.",
    "I tried it on my own laptop and it was surprisingly fast.",
    "Right.",
    "That is a really good point.",
    "But the benchmark numbers do not tell the whole story.",
    "Most of the gains come from better training data, not from a bigger network.",
    "Yes, exactly.",
    "Can you tell us a little more about how the evaluation was done?",
    "They used a held out set of coding problems that were written after the training cutoff.",
    "So contamination should not be a problem this time.",
    "I am not so sure about that, people share solutions everywhere.",
    "Let us move on to the next story, there is a lot to cover.",
    "A small startup released a speech model that runs on a phone.",
    "It transcribes an hour of audio in about two minutes.",
    "Okay.",
    "That would have sounded impossible just two years ago.",
    "The price of inference keeps dropping every few months.",
    "Which is great news for everyone building products on top of these models.",
    "I want to add one more thing before we wrap up.",
    "Please do, we still have a few minutes.",
    "Always read the model card before you trust any of the numbers.",
    "Thanks everyone for listening, and see you next week.",
    "Mm hmm.",
]

# distinct speakers (kal and kal16 are the same person; espeak-ng voices are formant synthesis)
VOICES_2 = ("rms", "slt")
VOICES_3 = ("awb", "slt", "kal16")
VOICES_4 = ("rms", "awb", "slt", "kal16")
# flite beside espeak-ng (formant synthesis: a very different timbre from flite's voices)
MIXED_2 = ("awb", "espeak:en+f3")
MIXED_3 = ("rms", "espeak:en-us", "slt")
MIXED_4 = ("rms", "slt", "espeak:en-us", "espeak:en+f3")


def script(voices: tuple[str, ...], n_turns: int, seed: int) -> list[tuple[str, str]]:
    """A conversation: every voice speaks early, then turns pass at random (never to oneself)."""
    rng = random.Random(seed)
    order = list(voices)
    rng.shuffle(order)
    lines: list[tuple[str, str]] = []
    last = None
    for i in range(n_turns):
        if i < len(order):
            voice = order[i]
        else:
            voice = rng.choice([v for v in voices if v != last] or list(voices))
        k = rng.choice([1, 1, 2, 2, 3])
        text = " ".join(rng.sample(SENTENCES, k))
        lines.append((voice, text))
        last = voice
    return lines


def conversation(
    lines: list[tuple[str, str]], tmp: Path, seed: int = 0, pauses: tuple[float, float] = (0.2, 0.9)
) -> tuple[np.ndarray, list[Turn]]:
    """Render turns with random pauses between ``pauses`` seconds and a little room noise.

    A turn's true extent is its speech: flite pads every clip with 0.1-0.3 s of silence before
    and after it (espeak-ng after it), which is nobody speaking (the real-voice references are
    cut at the speech the same way, ``shared/realspeech``)."""
    import librosa

    rng = np.random.default_rng(seed)
    pieces: list[np.ndarray] = []
    turns: list[Turn] = []
    t = 0.3
    pieces.append(np.zeros(int(t * RATE), np.float32))
    for voice, text in lines:
        audio = say(text, voice, tmp)
        audio = audio * float(rng.uniform(0.5, 1.0))  # speakers are not equally loud
        _, (first, last) = librosa.effects.trim(audio, top_db=40, frame_length=400, hop_length=160)
        turns.append(Turn(voice, t + first / RATE, t + last / RATE, text))
        pause = float(rng.uniform(*pauses))
        pieces += [audio, np.zeros(int(pause * RATE), np.float32)]
        t += len(audio) / RATE + int(pause * RATE) / RATE
    mix = np.concatenate(pieces)
    mix = mix + rng.normal(0, 0.002, len(mix)).astype(np.float32)  # a quiet noise floor
    return mix.astype(np.float32), turns


def reference(turns: list[Turn], join: float = 1.0):
    """pyannote.core Annotation of the true turns, a speaker's consecutive turns less than
    ``join`` seconds apart made one (the convention of the real-voice reference,
    ``shared/realspeech/README.md``)."""
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    current: list | None = None
    for t in turns:
        if current and current[2] == t.speaker and t.start - current[1] < join:
            current[1] = t.end
            continue
        if current:
            ann[Segment(current[0], current[1])] = current[2]
        current = [t.start, t.end, t.speaker]
    if current:
        ann[Segment(current[0], current[1])] = current[2]
    return ann
