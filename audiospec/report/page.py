"""A self-contained HTML page (images inlined as data URIs, no network needed to open it), and its building blocks:
tables, figures, audio players and listening sets."""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import matplotlib.image
import soundfile as sf

from audiospec.atomic import atomic_write_text
from audiospec.errors import AudiospecError

__all__ = ["FOLD_ROWS", "asset", "data_uri", "figure", "figures", "fmt", "folded", "image", "items",
           "listening_section", "player", "table", "write_page"]

FOLD_ROWS = 20
"""The longest table a page shows unfolded; longer ones are in a closed ``<details>`` (the browser test checks)."""

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1320px;margin:1em auto;padding:0 1em;color:#222;line-height:1.35}
h1{font-size:1.35em;margin:.2em 0}h2{margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}figure img{max-height:340px}
.row{display:flex;flex-wrap:wrap;gap:.8em}.row figure{margin:0;width:330px}.row audio{width:100%}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:.2em 1em;align-items:start}
figcaption{font-size:.85em;color:#444}figure{margin:.6em 0}li{margin:.3em 0}.note{color:#666;font-size:.9em}
nav{font-size:.9em;color:#444}nav a{margin-right:.9em}
details{margin:.5em 0}summary{cursor:pointer;color:#1a4f8b}.family{font-size:.95em}
.answers{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:.45em;align-items:start}
.answer{border:1px solid #ddd;border-radius:4px;padding:.2em .5em;font-size:.82em;line-height:1.3;display:grid;
grid-template-columns:220px 1fr;gap:0 .6em;align-items:start;align-content:start}.answer p{margin:.1em 0}
.answer img{width:220px;max-height:140px;object-fit:contain;object-position:left top;margin:0}
h2 .note{font-weight:normal;font-size:.5em;margin-left:.6em}.answer h3{font-size:1.05em;margin:.1em 0 .2em;grid-column:1/-1}
.answer.nofigure{grid-template-columns:1fr}
.verdict{font-weight:600}.side{width:100%;table-layout:fixed}.side td,.side th{vertical-align:top;text-align:left}
.side img{max-height:230px}
"""

_MIME = {".png": "image/png", ".wav": "audio/wav", ".json": "application/json"}


def data_uri(path: Path) -> str:
    """Inline a file as a base64 data URI; a PNG is checked to decode first, a WAV is embedded as Ogg Vorbis.

    The WAV files beside the report keep the exact samples; the page embeds a compressed copy
    (about ten times smaller) so a report with a hundred players stays a few MB.
    """
    if not path.is_file():
        raise AudiospecError(f"report asset {str(path)!r} is missing; re-run the step that writes it")
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    data = path.read_bytes()
    if mime == "image/png":
        _check_png(path, data)
    if mime == "audio/wav":
        mime, data = "audio/ogg", _ogg_vorbis(path, data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _ogg_vorbis(path: Path, data: bytes) -> bytes:
    """The WAV ``data`` re-encoded as Ogg Vorbis (soundfile, quality 0.4); an unreadable WAV is embedded as is, so
    the page's media check reports it instead of the report failing."""
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return data
    out = io.BytesIO()
    sf.write(out, samples, rate, format="OGG", subtype="VORBIS", compression_level=0.6)
    return out.getvalue()


def _check_png(path: Path, data: bytes) -> None:
    """AudiospecError unless ``data`` decodes as a non-empty PNG image."""
    try:
        image = matplotlib.image.imread(io.BytesIO(data), format="png")
    except Exception as err:  # noqa: BLE001 - any decoder failure means a damaged file
        raise AudiospecError(f"report image {str(path)!r} is not a readable PNG ({type(err).__name__}: {err}); "
                             "re-run the step that writes it") from None
    if image.size == 0:
        raise AudiospecError(f"report image {str(path)!r} is empty; re-run the step that writes it")


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.2f}, {value[1]:.2f}]"
    return html.escape(str(value))


def table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def figure(out_dir: Path, name: str, alt: str, caption: str) -> str:
    """An inlined plot with a one-line caption saying what to look for."""
    return f"<figure>{image(out_dir, name, alt)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def figures(*shown: str) -> str:
    """Figures side by side (two per row at the page's width)."""
    return f"<div class='figures'>{''.join(shown)}</div>"


def folded(summary: str, inner: str) -> str:
    """``inner`` in a closed ``<details>`` whose ``summary`` says what it holds."""
    return f"<details><summary>{html.escape(summary)}</summary>{inner}</details>"


def asset(out_dir: Path, name: Any) -> Path:
    """``out_dir / name`` for a file a result names: a relative path that stays inside ``out_dir`` (a damaged or
    crafted result must not make the report read, and inline, a file outside its run folder)."""
    path = out_dir / name if isinstance(name, str) and name else None
    if path is None or Path(name).is_absolute() or not path.resolve().is_relative_to(out_dir.resolve()):
        raise AudiospecError(f"{str(out_dir)!r} names the report asset {name!r}, which is not a file inside that folder; "
                             "the report reads only files inside its run folder: re-run the step that wrote it")
    return path


def image(out_dir: Path, name: str, alt: str) -> str:
    return f'<img src="{data_uri(asset(out_dir, name))}" alt="{html.escape(alt)}">'


def player(out_dir: Path, wav: str, png: str, caption: str) -> str:
    return (
        f"<figure><figcaption>{html.escape(caption)}</figcaption>"
        f'<audio controls preload="auto" src="{data_uri(asset(out_dir, wav))}"></audio>'
        f'<img src="{data_uri(asset(out_dir, png))}" alt="spectrogram {html.escape(caption)}"></figure>'
    )


_CORRUPT_NOTE = ("Waveform-domain noise is added at an SNR; mel-domain noise at flow time t (x_t = (1 − t) x0 + t ε "
                 "on the centred log-mel patch, inverted with Griffin-Lim). 'griffin_lim' is the clean mel patch "
                 "through the same inversion, the reference for the mel rows. The files of one clip share one gain, "
                 "so their levels and SNRs are as computed.")
_GENERATED_NOTE = ("Sample k of every prior starts from the same white draw (coloured for each prior), so the "
                   "priors can be compared by ear side by side. The trajectory rows play the model's data "
                   "prediction x̂0(t) from noise (t = 1) to data (t = 0), with how many quefrency bands have "
                   "committed by then: under white noise the spectral envelope settles before the fine structure.")


def listening_section(manifest: dict[str, Any], out_dir: Path, *, generated: bool = False) -> str:
    """Audio players and spectrograms for the files a manifest lists (paths relative to ``out_dir``):
    ``corrupt.json`` (clean / noised / blurred clips) or, with ``generated``, compare's ``listening.json``."""
    files = manifest["files"]
    title = "Listening: generated samples and trajectories" if generated else "Listening: clean, noised and blurred clips"
    anchor = "generated" if generated else "listening"
    parts = []
    for clip in dict.fromkeys(entry["clip"] for entry in files):  # in the order written
        entries = [e for e in files if e["clip"] == clip]
        heading = f"Clip {clip}" if isinstance(clip, int) else str(clip).capitalize()
        parts.append(f"<h3>{html.escape(heading)} ({html.escape(entries[0]['label'])})</h3>")
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in entries:
            groups.setdefault((entry["domain"], entry["prior"]), []).append(entry)
        for (domain, prior), group in groups.items():
            players = "".join(player(out_dir, e["wav"], e["png"], e["level"]) for e in group)
            parts.append(f"<h4>{html.escape(domain)} / {html.escape(prior)}</h4><div class='row'>{players}</div>")
    what = "generated samples and trajectories" if generated else "clean, noised and blurred clips"
    return (f"<h2 id='{anchor}'>{title}</h2><p class='note'>{_GENERATED_NOTE if generated else _CORRUPT_NOTE}</p>"
            + folded(f"Play the {len(files)} {what}, each with its spectrogram", "\n".join(parts)))


# Machine-readable media check for the headless-browser test (nothing is shown on the page): once the
# page has loaded, data-* attributes on <body> say how many players decoded audio of positive duration,
# how many images rendered and are not blank, how many errors reached the console, the first section's id,
# the most rows of a table shown unfolded, the page's height with its folded parts closed, how many answers it
# opens with and where the last of them ends (px from the top: on the first screen when below its height).
_ERROR_HOOK = """
<script>
window.__audiospecErrors = [];
window.addEventListener('error', e => window.__audiospecErrors.push(String(e.message || e.type)), true);
const __consoleError = console.error;
console.error = (...args) => { window.__audiospecErrors.push(args.join(' ')); __consoleError(...args); };
</script>
"""

_STATUS_SCRIPT = """
<script>
function nonBlank(img) {
  const c = document.createElement('canvas');
  c.width = 64; c.height = 64;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0, 64, 64);
  const d = g.getImageData(0, 0, 64, 64).data;
  let sum = 0, sq = 0;
  for (let i = 0; i < d.length; i += 4) { const v = (d[i] + d[i + 1] + d[i + 2]) / 3; sum += v; sq += v * v; }
  const n = d.length / 4, mean = sum / n;
  return sq / n - mean * mean > 4;  // pixel std above 2 grey levels
}
window.addEventListener('load', () => {
  const audios = [...document.querySelectorAll('audio')];
  const images = [...document.querySelectorAll('img')];
  const settled = audios.map(a => new Promise(resolve => {
    if (a.readyState >= 1) return resolve(true);
    a.addEventListener('loadedmetadata', () => resolve(true), {once: true});
    a.addEventListener('error', () => resolve(false), {once: true});
    a.load();
  }));
  Promise.all(settled).then(ok => {
    const b = document.body.dataset;
    b.audioTotal = audios.length;
    b.audioOk = ok.filter((v, i) => v && audios[i].duration > 0).length;
    b.imgTotal = images.length;
    b.imgOk = images.filter(i => i.complete && i.naturalWidth > 0).length;
    b.imgNonBlank = images.filter(i => i.complete && i.naturalWidth > 0 && nonBlank(i)).length;
    b.consoleErrors = window.__audiospecErrors.length;
    const first = document.querySelector('h2[id]');
    b.firstSection = first ? first.id : '';
    const shown = [...document.querySelectorAll('table')].filter(t => !t.closest('details:not([open])'));
    b.longestOpenTable = Math.max(0, ...shown.map(t => t.rows.length - 1));  // rows below the header
    b.pageHeight = document.documentElement.scrollHeight;
    const cards = [...document.querySelectorAll('.answer')];
    b.answersTotal = cards.length;
    b.answersBottom = Math.round(Math.max(0, ...cards.map(c => c.getBoundingClientRect().bottom + window.scrollY)));
    b.checked = 'yes';
  });
});
</script>
"""


def _contents(sections: list[str]) -> str:
    """One line of links to the sections' <h2 id=...> headings."""
    links = re.findall(r"<h2 id=['\"]([\w-]+)['\"]>(.*?)</h2>", "\n".join(sections))
    shown = "".join(f"<a href='#{anchor}' title='{html.escape(re.sub(r'<[^>]+>', '', text), quote=True)}'>{anchor}</a>"
                    for anchor, text in links)
    return f"<nav><strong>Sections:</strong> {shown}</nav>" if len(links) > 1 else ""


def items(lines: Any) -> str:
    """``<li>`` items of sentences, escaped."""
    return "".join(f"<li>{html.escape(line)}</li>" for line in lines)


def write_page(path: Path, *, title: str, sections: list[str]) -> Path:
    """Write one HTML page from section fragments, atomically; returns ``path``."""
    body = "\n".join(sections)
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style>{_ERROR_HOOK}</head><body><h1>{html.escape(title)}</h1>"
        f"{_contents(sections)}{body}"
        "<p class='note'>Generated by audiospec. Every number here is also in the JSON files beside this page; "
        "the audio players embed Ogg Vorbis copies of the WAV files beside it.</p>"
        f"{_STATUS_SCRIPT}</body></html>\n"
    )
    atomic_write_text(path, page)
    return path
