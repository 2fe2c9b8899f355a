#!/usr/bin/env python3
"""Generate the bundled AI-news sample episode for podtools.

Synthesizes a short three-speaker podcast with Debian ``flite`` voices, mixes
it to a mono 16 kHz track with deterministic pauses, and writes (next to this
script, or to ``--outdir``):

* ``episode.mp3``  - mono 64 kbps MP3, ID3 title "AI News Sample"
* ``script.json``  - speakers, turns (true start/end seconds) and chapters
* ``chapters.txt`` - YouTube-description style chapter list

Requires ``flite`` and ``ffmpeg`` on PATH plus numpy and soundfile.
Usage: python samples/make_sample.py [--outdir DIR] [--keep-wav]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

TITLE = "AI News Sample"
SAMPLE_RATE = 16000  # flite's rms/slt/awb voices are all 16 kHz
SEED = 20240725
PAUSE_RANGE = (0.3, 0.8)  # seconds of silence between turns
LEAD_IN = 0.5  # seconds of silence before the first turn
TAIL = 1.0  # seconds of silence after the last turn
PEAK = 10 ** (-1.0 / 20)  # final peak normalisation: -1 dBFS
TURN_RMS = 0.08  # per-turn loudness target before peak normalisation
TRIM_THRESHOLD = 0.02  # fraction of a turn's peak treated as silence
TRIM_MARGIN = 0.03  # seconds kept around the trimmed speech
MP3_BITRATE = "64k"
DURATION_STRETCH = 0.9  # flite speaking rate (<1 is faster)

# Note: "kal" and "kal16" are the same speaker, so never use both.
SPEAKERS = [
    {"id": "S1", "name": "Alex", "voice": "rms"},
    {"id": "S2", "name": "Priya", "voice": "slt"},
    {"id": "S3", "name": "Sam", "voice": "awb"},
]

CHAPTERS = [
    "Intro",
    "Llama 3.1 405B and open models",
    "GPT-4o mini and coding benchmarks",
    "Wrap-up",
]

# (chapter index, speaker name, reference text, spoken text or None).
# The reference text is the natural written form; the spoken text (when
# given) is what flite is fed because it pronounces that form better.
TURNS = [
    (0, "Alex",
     "Hi, I'm Alex, your host, and welcome to AI News Weekly. Today we talk "
     "about open models and coding benchmarks.",
     "Hi, I'm Alex, your host, and welcome to A I News Weekly. Today we "
     "talk about open models and coding benchmarks."),
    (0, "Priya",
     "Thank you, Alex. I'm Priya, and I test large language models for a "
     "living.",
     None),
    (0, "Sam",
     "Thanks for having me, Alex. I'm Sam, and I build things with open "
     "models.",
     None),

    (1, "Alex",
     "First up is Meta. Sam, what is new with Llama 3.1 405B?",
     "First up is Meta. Sam, what is new with Llama 3.1, four oh five B?"),
    (1, "Sam",
     "It is the largest open model so far, with 405 billion parameters.",
     "It is the largest open model so far, with four hundred and five "
     "billion parameters."),
    (1, "Priya",
     "It scores about 88 percent on MMLU, close to GPT-4o and Claude 3.5 "
     "Sonnet.",
     "It scores about 88 percent on M M L U, close to G P T four oh and "
     "Claude 3.5 Sonnet."),
    (1, "Alex",
     "So the gap between open and closed models is getting smaller?",
     None),
    (1, "Sam",
     "Yes, and Mistral Large 2 came out the next day, with 123 billion "
     "parameters.",
     None),
    (1, "Priya",
     "Both models score above ninety percent on GSM8K, so grade school "
     "math is almost solved.",
     "Both models score above ninety percent on G S M eight K, so grade "
     "school math is almost solved."),
    (1, "Sam",
     "And DeepSeek Coder V2 is still one of the best open models for code.",
     "And Deep Seek Coder V2 is still one of the best open models for "
     "code."),

    (2, "Alex",
     "Next up is OpenAI. Priya, tell us about GPT-4o mini.",
     "Next up is Open A I. Priya, tell us about G P T four oh mini."),
    (2, "Priya",
     "It is a small and cheap version of GPT-4o, and it scores 82 percent "
     "on MMLU.",
     "It is a small and cheap version of G P T four oh, and it scores 82 "
     "percent on M M L U."),
    (2, "Sam",
     "The price is the real story. It costs fifteen cents per million "
     "input tokens.",
     None),
    (2, "Alex",
     "What about real software engineering work, beyond HumanEval?",
     "What about real software engineering work, beyond human eval?"),
    (2, "Priya",
     "That is where SWE-bench Verified comes in, with real GitHub issues "
     "checked by human engineers.",
     "That is where S W E bench Verified comes in, with real Git Hub "
     "issues checked by human engineers."),
    (2, "Sam",
     "Claude 3.5 Sonnet does really well there, and many developers use "
     "it every day.",
     None),

    (3, "Alex",
     "That's all the time we have today. Priya and Sam, any final "
     "thoughts?",
     None),
    (3, "Sam",
     "Try the open models yourself. Llama 3.1 and Mistral Large 2 are both "
     "easy to download.",
     None),
    (3, "Priya",
     "And always run the benchmarks yourself before you trust the "
     "numbers.",
     None),
    (3, "Alex",
     "Thank you both. This was Alex, and you have been listening to AI "
     "News Weekly. See you next week.",
     "Thank you both. This was Alex, and you have been listening to A I "
     "News Weekly. See you next week."),
]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"error: '{tool}' not found on PATH")
    return path


def synth(text: str, voice: str, wav_path: Path) -> np.ndarray:
    """Run flite and return the mono float32 samples of one utterance."""
    subprocess.run(
        [_require("flite"), "-voice", voice,
         "--setf", f"duration_stretch={DURATION_STRETCH}",
         "-t", text, "-o", str(wav_path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    audio, sr = sf.read(str(wav_path), dtype="float32", always_2d=True)
    if sr != SAMPLE_RATE:
        sys.exit(f"error: flite voice {voice} produced {sr} Hz, "
                 f"expected {SAMPLE_RATE} Hz")
    return audio.mean(axis=1)


def trim(audio: np.ndarray) -> np.ndarray:
    """Strip leading/trailing silence, keeping a short margin."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return audio
    loud = np.flatnonzero(np.abs(audio) > TRIM_THRESHOLD * peak)
    margin = int(round(TRIM_MARGIN * SAMPLE_RATE))
    lo = max(int(loud[0]) - margin, 0)
    hi = min(int(loud[-1]) + margin + 1, audio.size)
    return audio[lo:hi]


def level(audio: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))
    return audio if rms == 0.0 else (audio * (TURN_RMS / rms)).astype(np.float32)


def fmt_ts(seconds: float) -> str:
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def build(outdir: Path, keep_wav: bool = False) -> dict:
    _require("ffmpeg")
    voices = {s["name"]: s["voice"] for s in SPEAKERS}
    rng = random.Random(SEED)
    sr = SAMPLE_RATE

    pieces = [np.zeros(int(round(LEAD_IN * sr)), dtype=np.float32)]
    cursor = pieces[0].size  # position in samples
    turns, chapter_starts = [], {}

    with tempfile.TemporaryDirectory(prefix="podtools-sample-") as tmp:
        tmpdir = Path(tmp)
        for i, (chapter, speaker, text, spoken) in enumerate(TURNS):
            spoken = spoken or text
            if i:
                pause = round(rng.uniform(*PAUSE_RANGE), 2)
                gap = np.zeros(int(round(pause * sr)), dtype=np.float32)
                pieces.append(gap)
                cursor += gap.size
            audio = level(trim(synth(spoken, voices[speaker],
                                     tmpdir / f"turn{i:02d}.wav")))
            start, end = cursor, cursor + audio.size
            pieces.append(audio)
            cursor = end
            chapter_starts.setdefault(chapter, start / sr)
            turns.append({
                "speaker": speaker,
                "voice": voices[speaker],
                "start": round(start / sr, 3),
                "end": round(end / sr, 3),
                "text": text,
                "spoken": spoken,
            })
        pieces.append(np.zeros(int(round(TAIL * sr)), dtype=np.float32))

        mix = np.concatenate(pieces)
        mix = (mix * (PEAK / float(np.max(np.abs(mix))))).astype(np.float32)
        mix_wav = tmpdir / "episode.wav"
        sf.write(str(mix_wav), mix, sr, subtype="PCM_16")

        outdir.mkdir(parents=True, exist_ok=True)
        mp3 = outdir / "episode.mp3"
        subprocess.run(
            [_require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y",
             "-i", str(mix_wav), "-map_metadata", "-1",
             "-ac", "1", "-ar", str(sr), "-c:a", "libmp3lame",
             "-b:a", MP3_BITRATE, "-id3v2_version", "3",
             "-metadata", f"title={TITLE}",
             "-fflags", "+bitexact", "-flags:a", "+bitexact",
             str(mp3)],
            check=True,
        )
        if keep_wav:
            shutil.copyfile(mix_wav, outdir / "episode.wav")

    chapters = [
        {"start": 0.0 if idx == 0 else round(chapter_starts[idx], 3),
         "title": title}
        for idx, title in enumerate(CHAPTERS)
    ]
    doc = {
        "title": TITLE,
        "duration": round(mix.size / sr, 3),
        "sample_rate": sr,
        "speakers": SPEAKERS,
        "turns": turns,
        "chapters": chapters,
    }
    (outdir / "script.json").write_text(
        json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (outdir / "chapters.txt").write_text(
        "".join(f"{fmt_ts(c['start'])} {c['title']}\n" for c in chapters),
        encoding="utf-8")
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", type=Path,
                        default=Path(__file__).resolve().parent,
                        help="output directory (default: this script's dir)")
    parser.add_argument("--keep-wav", action="store_true",
                        help="also write the 16 kHz mono mix as episode.wav")
    args = parser.parse_args(argv)
    doc = build(args.outdir, keep_wav=args.keep_wav)
    print(f"wrote {args.outdir}/episode.mp3: {doc['duration']:.2f} s, "
          f"{len(doc['turns'])} turns, {len(doc['chapters'])} chapters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
