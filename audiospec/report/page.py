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

__all__ = ["asset", "data_uri", "figure", "fmt", "image", "items", "listening_section", "player",
           "table", "write_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.row{display:flex;flex-wrap:wrap;gap:.8em}.row figure{margin:0;width:330px}.row audio{width:100%}
figcaption{font-size:.85em;color:#444}figure{margin:.6em 0}nav ul{columns:2}li{margin:.3em 0}.note{color:#666;font-size:.9em}
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
    parts = [f"<h2 id='{anchor}'>{title}</h2>", f"<p class='note'>{_GENERATED_NOTE if generated else _CORRUPT_NOTE}</p>"]
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
    return "\n".join(parts)


# Machine-readable media check for the headless-browser test (nothing is shown on the page): once the
# page has loaded, data-* attributes on <body> say how many players decoded audio of positive duration,
# how many images rendered and are not blank, and how many errors reached the console.
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
    b.checked = 'yes';
  });
});
</script>
"""


def _contents(sections: list[str]) -> str:
    """A contents list of the sections' <h2 id=...> headings."""
    links = re.findall(r"<h2 id=['\"]([\w-]+)['\"]>(.*?)</h2>", "\n".join(sections))
    items = "".join(f"<li><a href='#{anchor}'>{text}</a></li>" for anchor, text in links)
    return f"<nav><strong>Contents</strong><ul>{items}</ul></nav>" if len(links) > 1 else ""


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
