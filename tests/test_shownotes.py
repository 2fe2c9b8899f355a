"""Show notes, newsletter, summary, YouTube description and the episode page; the render command."""

import base64
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from podtools.cli import cli
from podtools.models import Episode, Quote, Speaker
from podtools.outputs import render
from podtools.summarize import categories, summarize
from podtools.timefmt import hms
from summary_data import script_episode

OUTPUTS = ("summary.md", "show_notes.md", "newsletter.md", "youtube_description.txt", "episode.html")
INJECT = "<script>document.title='PWNED'</script>"
YT_EXTRACTIVE = "Summary extracted from the transcript without an LLM:"


@pytest.fixture(scope="module")
def summarized(sample_script) -> Episode:
    return summarize(script_episode(sample_script)).episode


@pytest.fixture(scope="module")
def hostile(summarized) -> Episode:
    """Transcript, speaker, chapter and 'LLM' text all trying to inject markup and script."""
    segs = [s.model_copy() for s in summarized.segments]
    segs[1] = segs[1].model_copy(update={"text": f"{INJECT} and <b>bold</b> &amp; more", "speaker": "Eve"})
    chapters = [c.model_copy() for c in summarized.chapters]
    chapters[2] = chapters[2].model_copy(update={"title": "</nav><script>alert(2)</script>"})
    ep_sum = summarized.summaries["episode"].model_copy(update={
        "text": "Summary <img src=x onerror=\"document.title='PWNED2'\">",
        "quotes": [Quote(text=INJECT, segment=1, start=segs[1].start, end=segs[1].end, speaker="Eve")],
    })
    return summarized.model_copy(update={
        "segments": segs, "chapters": chapters,
        "speakers": summarized.speakers + [Speaker(id="Eve", name="<i onmouseover=alert(3)>Eve</i>")],
        "summaries": {**summarized.summaries, "episode": ep_sum},
    })


def only_the_player_script(html: str) -> bool:
    """The page's one script is the shipped player (the local sample audio is at hand), allowed
    by its hash in the Content Security Policy; no script from the episode's text."""
    import base64
    import hashlib
    from importlib.resources import files

    shipped = files("podtools.templates").joinpath("player.js").read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S | re.I)
    digest = base64.b64encode(hashlib.sha256(shipped.encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1)
    return scripts == [shipped] and f"script-src 'sha256-{digest}'" in csp and "unsafe-inline" not in csp.split(
        "script-src")[1]


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag):
        return [a for t, a in self.tags if t == tag]


def test_markdown_and_text_outputs(summarized, tmp_path):
    render(summarized, tmp_path, only=OUTPUTS)
    notes = (tmp_path / "show_notes.md").read_text()
    assert notes.startswith("# AI News Sample\n")
    assert "## Chapters\n\n- 0:00 Intro\n- 0:18 Llama 3.1 405B and open models\n" in notes
    assert "**Models:** " in notes and "Llama 3.1 405B (0:18)" in notes and "**Benchmarks:**" in notes
    assert "- Alex (" in notes and "% of the talk time)" in notes
    assert "without an LLM" in notes

    news = (tmp_path / "newsletter.md").read_text()
    order = [c.name for c in categories()]
    heads = [ln.strip("*") for ln in news.splitlines() if ln.startswith("**") and ln.strip("*") in order]
    assert heads and heads == sorted(heads, key=order.index)  # TL;DR grouped, in the category order
    assert news.index("## TL;DR") < news.index("## Llama 3.1 405B and open models") < news.index("## Wrap-up")
    assert "Draft from an extractive summary" in news

    yt = (tmp_path / "youtube_description.txt").read_text()
    # the README: extractive summaries are marked so in every file, this one too (before the summary)
    assert yt.startswith(f"{YT_EXTRACTIVE}\n{summarized.summaries['episode'].text}\n")
    assert "Chapters:\n0:00 Intro\n0:18 Llama 3.1 405B and open models\n0:55 GPT-4o mini and coding benchmarks\n1:24 Wrap-up\n" in yt
    assert "#" not in yt and "**" not in yt

    summary = (tmp_path / "summary.md").read_text()
    for head in ("## TL;DR", "## Key takeaways", "## Notable quotes", "## Chapters", "### [0:18] Llama 3.1 405B"):
        assert head in summary
    s = summarized.summaries["episode"]
    assert f"- {s.tldr[0].text} [" in summary


def test_youtube_description_is_cut_to_the_limit(summarized):
    from podtools.outputs.notes import document_text

    long = summarized.model_copy(update={"summaries": {**summarized.summaries, "episode": summarized.summaries[
        "episode"].model_copy(update={"text": "word " * 2000})}})
    text = document_text("youtube_description.txt", long)
    assert len(text) <= 5000 and text.endswith("…\n")
    assert text.startswith(f"{YT_EXTRACTIVE}\nword word ")  # the cut keeps the marker


def test_youtube_description_of_an_llm_summary_is_not_marked_extractive(summarized):
    from podtools.outputs.notes import document_text

    s = summarized.summaries["episode"].model_copy(update={"method": "llm", "model": "test-model",
                                                           "text": "Written by the model."})
    text = document_text("youtube_description.txt", summarized.model_copy(
        update={"summaries": {**summarized.summaries, "episode": s}}))
    assert text.startswith("Written by the model.\n") and "extract" not in text.lower()


def test_episode_page_structure(summarized, tmp_path):
    render(summarized, tmp_path, only=["episode.html"])
    html = (tmp_path / "episode.html").read_text()
    page = Page(html)
    ids = {a["id"] for _, a in page.tags if "id" in a}
    nav = [a["href"] for a in page.all("a") if a.get("href", "").startswith("#ch-")]
    assert nav == [f"#ch-{i}" for i in range(1, len(summarized.chapters) + 1)]
    assert all(h[1:] in ids for h in nav)  # every chapter link has its target
    imgs = [a["src"] for a in page.all("img")]
    assert len(imgs) == 2 and all(src.startswith("data:image/png;base64,") for src in imgs)
    from matplotlib.image import imread

    for src in imgs:
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert imread(io.BytesIO(png)).shape[1] > 500
    assert only_the_player_script(html) and not any(a.get("src", "").startswith("http") for a in page.all("img"))
    text = " ".join(page.text)
    assert summarized.segments[4].text in text and "Transcript" in text
    assert "default-src 'none'" in html  # no script may run even if one slipped in


def test_episode_page_escapes_everything(hostile, tmp_path):
    render(hostile, tmp_path, only=["episode.html"])
    html = (tmp_path / "episode.html").read_text()
    page = Page(html)
    assert only_the_player_script(html) and page.all("b") == [] and page.all("i") == []
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    assert [a for a in page.all("img") if not a["src"].startswith("data:image/png")] == []
    text = "".join(page.text)
    assert INJECT in text and "<b>bold</b> &amp; more" in text and "</nav><script>alert(2)</script>" in text
    assert "&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;" in html


def test_no_summary_yet(summarized, tmp_path):
    bare = summarized.model_copy(update={"summaries": {}})
    render(bare, tmp_path, only=OUTPUTS)
    assert "No summary yet" in (tmp_path / "summary.md").read_text()
    assert "No summary yet" in (tmp_path / "episode.html").read_text()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed (apt-get install chromium)")
def test_episode_page_in_headless_chromium(hostile, tmp_path):
    render(hostile, tmp_path, only=["episode.html"])
    url = (tmp_path / "episode.html").as_uri()
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(base + ["--virtual-time-budget=2000", "--dump-dom", url], capture_output=True, text=True,
                         timeout=120).stdout
    page = Page(dom)
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert title == "AI News Sample"  # the injected scripts did not run (they would set it to PWNED)
    assert len(page.all("script")) == 1  # the player's
    assert [a["href"] for a in page.all("a") if a.get("href", "").startswith("#ch-")][:2] == ["#ch-1", "#ch-2"]
    assert INJECT in "".join(page.text)  # shown as text
    shot = tmp_path / "shot.png"
    subprocess.run(base + ["--window-size=1280,2200", f"--screenshot={shot}", url], capture_output=True, timeout=120)
    from matplotlib.image import imread

    img = imread(str(shot))[:, :, :3]
    assert img.shape[:2] == (2200, 1280)
    # the speaker timeline's first bar colour (matplotlib C0, #1f77b4) is on screen: the plots rendered
    c0 = (abs(img[:, :, 0] - 0x1F / 255) < 0.03) & (abs(img[:, :, 1] - 0x77 / 255) < 0.03) & (abs(img[:, :, 2] - 0xB4 / 255) < 0.03)
    assert c0.sum() > 500
    # the chapter navigation is drawn as links (blue text) in the left column
    assert (img[:400, :300, 2] - img[:400, :300, 0] > 0.5).sum() > 50


# -- render command and template errors ------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def ep_file(summarized, tmp_path):
    path = tmp_path / "ep" / "episode.json"
    summarized.save(path)
    return path


def test_render_command(ep_file, tmp_path):
    before = ep_file.read_bytes()
    res = run("render", ep_file, "--template", "show_notes.md", "-t", "episode.html")
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in ep_file.parent.iterdir()) == ["episode.html", "episode.json", "show_notes.md"]
    assert ep_file.read_bytes() == before
    res = run("render", ep_file, "-o", tmp_path / "all", "-q")
    assert res.exit_code == 0 and res.output == ""
    assert {p.name for p in (tmp_path / "all").iterdir()} >= set(OUTPUTS) | {"transcript.md", "transcript.srt"}


def test_user_templates_override_and_add(ep_file, tmp_path):
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "show_notes.md.j2").write_text("OURS: {{ notes.title }} ({{ notes.chapters | length }} chapters)\n")
    (tdir / "tweet.txt.j2").write_text("{{ notes.tldr[0].text }} {{ notes.tldr[0].time }}\n")
    res = run("render", ep_file, "--templates", tdir, "-t", "show_notes.md", "-t", "tweet.txt")
    assert res.exit_code == 0, res.output
    assert (ep_file.parent / "show_notes.md").read_text() == "OURS: AI News Sample (4 chapters)\n"
    first = Episode.load(ep_file).summaries["episode"].tldr[0]
    assert (ep_file.parent / "tweet.txt").read_text() == f"{first.text} {hms(first.start, always_hours=False)}\n"


@pytest.mark.parametrize("body,expect", [
    ("# {{ notes.title }\n", "show_notes.md.j2: line 1: template syntax error: unexpected '}'"),
    ("ok\n{% for c in notes.chapters %}\n{{ c.titel }}\n{% endfor %}\n",
     "show_notes.md.j2: line 3: undefined variable: 'podtools.outputs.notes.ChapterView object' has no attribute 'titel'"),
    ("{{ missing_var }}\n", "show_notes.md.j2: line 1: undefined variable: 'missing_var' is undefined"),
    ("{% include 'nope.j2' %}\n", "template 'nope.j2' not found"),
    ("{{ notes.__class__.__mro__ }}\n", "show_notes.md.j2: line 1: SecurityError"),
])
def test_template_errors_name_file_and_line(ep_file, tmp_path, body, expect):
    tdir = tmp_path / "tpl"
    tdir.mkdir()
    (tdir / "show_notes.md.j2").write_text(body)
    res = run("render", ep_file, "--templates", tdir, "-t", "show_notes.md")
    assert res.exit_code == 6
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("podtools: error: ") and expect in lines[0], res.stderr


def test_render_bad_inputs(ep_file, tmp_path):
    res = run("render", ep_file, "--templates", tmp_path / "missing")
    assert res.exit_code == 6 and "templates directory not found" in res.stderr
    res = run("render", ep_file, "-t", "nonsense")
    assert res.exit_code == 6 and "unknown template 'nonsense'" in res.stderr
    res = run("render", tmp_path / "nope.json")
    assert res.exit_code == 2 and "file not found" in res.stderr
