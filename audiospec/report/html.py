"""A self-contained HTML page (images inlined as data URIs, no network needed to open it)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib.image

from audiospec.atomic import atomic_write_text
from audiospec.errors import AudiospecError
from audiospec.experiments.results import AnalysisResult, CompareResult, Interval, PowerLawSummary

__all__ = ["data_uri", "analysis_section", "compare_section", "listening_section", "write_page"]

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
.row{display:flex;flex-wrap:wrap;gap:.8em}.row figure{margin:0;width:330px}.row audio{width:100%}
figcaption{font-size:.85em;color:#444}li{margin:.3em 0}.note{color:#666;font-size:.9em}
"""

_MIME = {".png": "image/png", ".wav": "audio/wav", ".json": "application/json"}


def data_uri(path: Path) -> str:
    """Inline a file as a base64 data URI (PNG, WAV); a PNG is checked to decode first."""
    if not path.is_file():
        raise AudiospecError(f"report asset {str(path)!r} is missing; re-run the step that writes it")
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    data = path.read_bytes()
    if mime == "image/png":
        _check_png(path, data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _check_png(path: Path, data: bytes) -> None:
    """AudiospecError unless ``data`` decodes as a non-empty PNG image."""
    try:
        image = matplotlib.image.imread(io.BytesIO(data), format="png")
    except Exception as err:  # noqa: BLE001 - any decoder failure means a damaged file
        raise AudiospecError(f"report image {str(path)!r} is not a readable PNG ({type(err).__name__}: {err}); "
                             "re-run the step that writes it") from None
    if image.size == 0:
        raise AudiospecError(f"report image {str(path)!r} is empty; re-run the step that writes it")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.2f}, {value[1]:.2f}]"
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(out_dir: Path, name: str, alt: str) -> str:
    return f'<img src="{data_uri(out_dir / name)}" alt="{html.escape(alt)}">'


def _fit_row(name: str, fit: PowerLawSummary) -> list[Any]:
    return [name, fit.alpha, fit.ci, fit.r2, fit.n]


def analysis_section(result: AnalysisResult, out_dir: Path) -> str:
    """HTML for the spectral analysis: findings, tables and the plots written by :func:`plot_all`."""
    findings = "".join(f"<li>{html.escape(text)}</li>" for text in result.findings)
    mel, cep = result.mel, result.cepstrum
    fit_rows = [_fit_row("mel RAPSD (all)", mel)]
    fit_rows += [_fit_row(f"mel RAPSD ({k})", v) for k, v in mel.by_class.items()]
    fit_rows += [_fit_row("mel RAPSD, pysteps convention", mel.pysteps_mode_no_window),
                 _fit_row("cepstral power", cep), _fit_row("waveform spectrum", result.waveform.power_law)]
    priors = list(next(iter(result.autoregression_order.values())))
    ar_rows = [[domain, *(s[p] for p in priors)] for domain, s in result.autoregression_order.items()]
    fmax = result.f_max
    every = max(1, len(fmax.t) // 10)  # the table shows about ten times; the figure has all of them
    fmax_rows = [[t, *(getattr(fmax, d)[k][i] for d in ("waveform", "mel", "cepstrum") for k in priors)]
                 for i, t in enumerate(fmax.t) if i % every == 0]
    fmax_head = ["t", *(f"{d} {k}" for d in ("wave", "mel", "cep") for k in priors)]
    classes = ", ".join(f"{k}: {v}" for k, v in result.classes.items())
    skipped = "".join(f"<li>{html.escape(s.path)}: {html.escape(s.reason)}</li>" for s in result.skipped)
    skipped = f"<p>{len(result.skipped)} input file(s) were left out:</p><ul>{skipped}</ul>" if skipped else ""
    return f"""
<h2>Spectral analysis</h2>
<p>{result.n_clips} clips of {result.clip_seconds:.1f} s at {result.sample_rate} Hz ({html.escape(classes)}).</p>
{skipped}
<ul>{findings}</ul>
<h3>Power-law fits</h3>
{_table(["spectrum", "alpha", "95% CI", "R²", "n"], fit_rows)}
<h3>Autoregression order (+1 coarse-to-fine, 0 all at once, −1 fine-to-coarse)</h3>
{_table(["domain", *priors], ar_rows)}
{_image(out_dir, "snr_spectra.png", "data and noise spectra per domain")}
<h3>Maximal detectable frequency f_max(t) (cycles/sample)</h3>
{_table(fmax_head, fmax_rows)}
{_image(out_dir, "fmax.png", "f_max(t)")}
<h3>Spectra</h3>
{_image(out_dir, "waveform_spectrum.png", "mean waveform spectrum")}
{_image(out_dir, "mel_rapsd.png", "mel RAPSD")}
{_image(out_dir, "cepstrum.png", "cepstral power")}
{_image(out_dir, "hinge_mel.png", "hinge spectra")}
"""


def compare_section(result: CompareResult, out_dir: Path) -> str:
    """HTML for ``audiospec compare``: the answers, metric tables with CIs, trajectory plots, generated audio."""
    answers = result.answers
    q2 = "".join(f"<li>{html.escape(a)}</li>" for a in answers.question_2_cepstral_autoregression)
    q3 = "".join(f"<li>{html.escape(a)}</li>" for a in answers.question_3_pink_vs_white)
    learned = "".join(f"<li>{html.escape(a)}</li>" for a in answers.samples_vs_prior)
    metrics = ["kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean",
               "memorisation_ratio"]
    diff_rows = [[prior, steps, metric, _ci(d), "–" if d.p_holm is None else f"{d.p_holm:.3f}",
                  "reliable" if d.reliable else "no reliable difference"]
                 for prior, per_steps in result.difference_to_white.items() for steps, per_metric in per_steps.items()
                 for metric, d in per_metric.items() if d is not None]
    rows = [[prior, steps, *(_ci(result.metrics[prior][str(steps)].get(m)) for m in metrics)]
            for prior in result.priors for steps in result.steps]
    rows += [[f"{prior} (its own noise, no learning)", 0, *(_fmt(result.prior_baseline[prior].get(m)) for m in metrics)]
             for prior in result.priors]
    rows += [[f"reference: {name}", "–", *(_fmt(values.get(m)) for m in metrics)]
             for name, values in (result.floors or {}).items()]
    order_rows = [[p, view, _ci(o.trained_order[view]), _ci(o.exact.views[view].order),
                   _ci(o.control.views[view].order) if o.control else "–", o.trained[0].views[view].power_order,
                   o.exact.views[view].power_order]
                  for p, o in result.autoregression_order.items() for view in o.trained_order]
    sweep_rows = [[name, "–" if e.beta is None else f"{e.beta:g}", view, _ci(e.exact.views[view].order),
                   _ci(e.exact.views[view].spread), _ci(e.trained_order[view]) if e.trained_order else "not trained",
                   _ci(e.quality.get("rapsd_error")) if e.quality else "–"]
                  for name, e in (result.colour_sweep or {}).items() for view in e.exact.views]
    alpha = f"α̂ = {result.alpha_hat:.2f}" if result.alpha_hat is not None else "not run"
    listening = out_dir / "listening.json"
    players = listening_section(_read_json(listening), out_dir) if listening.is_file() else ""
    return f"""
<h2>Noise priors compared: {html.escape(", ".join(result.priors))}</h2>
<p>{len(result.seeds)} seeds per prior, {html.escape(result.sampler)} sampler; means with 95% CIs over seeds.
Every quality metric compares generated patches with the {result.n_test_patches} patches of the held-out test split
(recordings disjoint from training); "real train vs test" is the floor a perfect model reaches, "gaussian, train
spectrum" what second-order statistics alone give, and each prior's own noise the score of no learning.</p>
<h3>Did the models learn the data's spectrum?</h3><ul>{learned}</ul>
<h3>Question 2: is sampling cepstral autoregression?</h3>
<p class='note'>Content order: Spearman(band frequency, −commit time), a band being committed once the unexplained
fraction of its content stays below the threshold; 95% intervals by bootstrap (over seeds and samples for the
trained models, over samples otherwise). Every trained score stands beside the exact linear-Gaussian model with
the centred training spectrum and a control network trained on Gaussian fields, measured the same way. The
power-based order (log band power within 1 dB of its final value) is a secondary view.</p><ul>{q2}</ul>
{_table(["prior", "view", "trained (content)", "exact linear-Gaussian", "control network", "trained (power, seed 1)", "exact (power)"], order_rows)}
{_image(out_dir, "trajectory_heatmaps.png", "unexplained fraction of each quefrency band during sampling")}
{_image(out_dir, "commit_times.png", "commit time per band, trained vs exact")}
<h3>Dose-response of the prior's colour (exact linear-Gaussian model, {alpha})</h3>
<p class='note'>For a pure power law the order stays +1 for β &lt; α̂ while the spread shrinks to 0 at β = α̂; both flip
sign beyond (fine-to-coarse).</p>
{_table(["prior", "β", "view", "exact order", "exact spread (−dt*/dlog10 f)", "trained order",
         f"RAPSD error at {min(result.steps)} steps"], sweep_rows)}
{_image(out_dir, "colour_sweep.png", "order and spread against the prior exponent")}
<h3>Question 3: does a pink prior beat white at equal compute?</h3><ul>{q3}</ul>
{_table(["prior", "steps", *metrics], rows)}
<p class='note'>Differences to white, paired by seed; intervals at the Bonferroni level over all comparisons of this
report, p-values from a paired bootstrap with Holm's correction. "No reliable difference" is a result.</p>
{_table(["prior", "steps", "metric", "difference to white", "Holm p", "verdict"], diff_rows)}
{_image(out_dir, "metrics_vs_steps.png", "metrics against sampling steps")}
{players}
"""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AudiospecError(f"cannot read {str(path)!r}: {err}; re-run the step that writes it") from None


def _ci(stat: Interval | None) -> str:
    return "–" if stat is None else stat.text()


def _player(out_dir: Path, wav: str, png: str, caption: str) -> str:
    return (
        f"<figure><figcaption>{html.escape(caption)}</figcaption>"
        f'<audio controls preload="auto" src="{data_uri(out_dir / wav)}"></audio>'
        f'<img src="{data_uri(out_dir / png)}" alt="spectrogram {html.escape(caption)}"></figure>'
    )


def listening_section(manifest: dict[str, Any], out_dir: Path) -> str:
    """Audio players and spectrograms for the files listed in ``corrupt.json`` (paths relative to ``out_dir``)."""
    files = manifest["files"]
    clips = sorted({entry["clip"] for entry in files})
    parts = ["<h2>Listening: clean, noised and blurred clips</h2>",
             "<p class='note'>Waveform-domain noise is added at an SNR; mel-domain noise at flow time t "
             "(x_t = (1 − t) x0 + t ε on the standardised log-mel patch, inverted with Griffin-Lim). "
             "'griffin_lim' is the clean mel patch through the same inversion, the reference for the mel rows.</p>"]
    for clip in clips:
        entries = [e for e in files if e["clip"] == clip]
        parts.append(f"<h3>Clip {clip} ({html.escape(entries[0]['label'])})</h3>")
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entry in entries:
            groups.setdefault((entry["domain"], entry["prior"]), []).append(entry)
        for (domain, prior), group in groups.items():
            players = "".join(_player(out_dir, e["wav"], e["png"], e["level"]) for e in group)
            parts.append(f"<h4>{html.escape(domain)} / {html.escape(prior)}</h4><div class='row'>{players}</div>")
    return "\n".join(parts)


# Checks, once the page has loaded, that every player decoded its audio and every image
# rendered; shows the result at the top and exposes it as data-* attributes on <body>
# (read by the headless-browser test).
_STATUS_SCRIPT = """
<script>
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
    b.checked = 'yes';
    document.getElementById('status').textContent =
      `${b.audioOk}/${b.audioTotal} audio players ready, ${b.imgOk}/${b.imgTotal} images rendered`;
  });
});
</script>
"""


def write_page(path: Path, *, title: str, sections: list[str]) -> Path:
    """Write one HTML page from section fragments, atomically; returns ``path``."""
    body = "\n".join(sections)
    page = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<p id='status' class='note'>checking media…</p>{body}"
        "<p class='note'>Generated by audiospec. Every number here is also in the JSON files beside this page.</p>"
        f"{_STATUS_SCRIPT}</body></html>\n"
    )
    atomic_write_text(path, page)
    return path
