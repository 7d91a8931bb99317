"""A self-contained HTML page (images inlined as data URIs, no network needed to open it)."""

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
from audiospec.diffusion.priors import REFERENCE_PRIOR
from audiospec.experiments.results import (
    AnalysisResult,
    BaselinesResult,
    CompareResult,
    Interval,
    PowerLawSummary,
    ProbeResult,
    read_json,
)

__all__ = ["data_uri", "analysis_section", "baselines_section", "compare_section", "listening_section", "probe_section",
           "read_manifest", "write_page"]

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


def _figure(out_dir: Path, name: str, alt: str, caption: str) -> str:
    """An inlined plot with a one-line caption saying what to look for."""
    return f"<figure>{_image(out_dir, name, alt)}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _asset(out_dir: Path, name: Any) -> Path:
    """``out_dir / name`` for a file a result names: a relative path that stays inside ``out_dir`` (a damaged or
    crafted result must not make the report read, and inline, a file outside its run folder)."""
    path = out_dir / name if isinstance(name, str) and name else None
    if path is None or Path(name).is_absolute() or not path.resolve().is_relative_to(out_dir.resolve()):
        raise AudiospecError(f"{str(out_dir)!r} names the report asset {name!r}, which is not a file inside that folder; "
                             "the report reads only files inside its run folder: re-run the step that wrote it")
    return path


def _image(out_dir: Path, name: str, alt: str) -> str:
    return f'<img src="{data_uri(_asset(out_dir, name))}" alt="{html.escape(alt)}">'


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
<h2 id="analysis">Spectral analysis</h2>
<p>{result.n_clips} clips of {result.clip_seconds:.1f} s at {result.sample_rate} Hz ({html.escape(classes)}).</p>
{skipped}
<ul>{findings}</ul>
<h3>Power-law fits</h3>
{_table(["spectrum", "alpha", "95% CI", "R²", "n"], fit_rows)}
<h3>Autoregression order (+1 coarse-to-fine, 0 all at once, −1 fine-to-coarse)</h3>
{_table(["domain", *priors], ar_rows)}
{_figure(out_dir, "snr_spectra.png", "data and noise spectra per domain", "Where a noise curve lies above the data curve, that frequency is already drowned; the order says which drown first.")}
<h3>Maximal detectable frequency f_max(t) (cycles/sample)</h3>
{_table(fmax_head, fmax_rows)}
{_figure(out_dir, "fmax.png", "f_max(t)", "The highest frequency still above the noise at time t: a curve that falls steadily means coarse-to-fine.")}
<h3>Spectra</h3>
{_figure(out_dir, "waveform_spectrum.png", "mean waveform spectrum", "A power law would be a straight line: the waveform spectrum rises to a peak first, so it is not one.")}
{_figure(out_dir, "mel_rapsd.png", "mel RAPSD", "Log-mel patches read as images: close to a straight line (power law) with slope -alpha.")}
{_figure(out_dir, "cepstrum.png", "cepstral power", "Cepstral power falls with quefrency: the spectral envelope (low quefrency) carries most of the variance.")}
{_figure(out_dir, "hinge_mel.png", "hinge spectra", "Noised spectra bend (hinge) where the noise floor meets the data: the hinge moves to lower frequencies as t grows.")}
"""


def compare_section(result: CompareResult, out_dir: Path) -> str:
    """HTML for ``audiospec compare``: the answers, metric tables with CIs, trajectory plots, generated audio."""
    answers = result.answers
    q2 = "".join(f"<li>{html.escape(a)}</li>" for a in answers.question_2_cepstral_autoregression)
    q3 = "".join(f"<li>{html.escape(a)}</li>" for a in answers.question_3_pink_vs_white)
    learned = "".join(f"<li>{html.escape(a)}</li>" for a in answers.samples_vs_prior)
    q4 = "".join(f"<li>{html.escape(a)}</li>" for a in answers.question_4_loss_and_schedule)
    q4 = (f"<h3>Question 4: do the whitened loss and the optimised time grid help at equal compute?</h3><ul>{q4}</ul>"
          if q4 else "")
    metrics = ["kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean",
               "memorisation_ratio"]
    references = {**{prior: REFERENCE_PRIOR for prior in result.difference_to_white}, **result.arms}
    diff_rows = [[prior, references[prior], steps, metric, _ci(d), "–" if d.p_holm is None else f"{d.p_holm:.3f}",
                  "primary" if d.primary else "secondary", "reliable" if d.reliable else "no reliable difference"]
                 for prior, per_steps in {**result.difference_to_white, **result.arm_differences}.items()
                 for steps, per_metric in per_steps.items() for metric, d in per_metric.items() if d is not None]
    rows = [[prior, steps, *(_ci(per_metric.get(m)) for m in metrics)]
            for prior in (*result.priors, *result.arms) for steps, per_metric in result.metrics[prior].items()]
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
    players = listening_section(read_manifest(listening), out_dir, generated=True) if listening.is_file() else ""
    return f"""
<h2 id="compare">Noise priors compared: {html.escape(", ".join(result.priors))}</h2>
{f"<p><strong>{html.escape(result.label)}</strong></p>" if result.label else ""}
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
{_figure(out_dir, "trajectory_heatmaps.png", "unexplained fraction of each quefrency band during sampling", "Dark = band decided (little of its content left to change); low bands turning dark first means coarse-to-fine.")}
{_figure(out_dir, "commit_times.png", "commit time per band, trained vs exact", "Solid: trained models; dashed: the exact linear-Gaussian model. A falling line means low bands commit earlier.")}
<h3>Dose-response of the prior's colour (exact linear-Gaussian model, {alpha})</h3>
<p class='note'>For a pure power law the order stays +1 for β &lt; α̂ while the spread shrinks to 0 at β = α̂; both flip
sign beyond (fine-to-coarse).</p>
{_table(["prior", "β", "view", "exact order", "exact spread (−dt*/dlog10 f)", "trained order",
         f"RAPSD error at {min(result.steps)} steps"], sweep_rows)}
{_figure(out_dir, "colour_sweep.png", "order and spread against the prior exponent", "The order stays +1 while beta is below the data slope, reaches 0 at the matched prior and flips beyond it.")}
<h3>Question 3: does a pink prior beat white at equal compute?</h3><ul>{q3}</ul>
{_table(["prior", "steps", *metrics], rows)}
{q4}
<p class='note'>Differences to the reference arm (priors to white; whitened loss to the plain loss of the same
prior; the optimised Euler grid to the uniform grid of the same models and initial noise), paired by seed;
p-values from an exact sign-flip test over seeds (with n seeds none can fall below 2 / 2<sup>n</sup>). Two families,
each Holm-corrected on its own, with intervals at its Bonferroni level: the pre-specified primary test (KID against
white at one step count, one test per prior) and every other comparison (secondary). "No reliable difference" is a
result.</p>
{_table(["arm", "reference", "steps", "metric", "difference", "Holm p", "family", "verdict"], diff_rows)}
{_figure(out_dir, "metrics_vs_steps.png", "metrics against sampling steps", "Lower is better for every metric; error bars are bootstrap intervals over seeds.")}
{players}
"""


def probe_section(result: ProbeResult, out_dir: Path) -> str:
    """HTML for ``audiospec probe``: the band-swap causal test and the likelihoods, each with its calibration."""
    answers = "".join(f"<li>{html.escape(a)}</li>" for a in result.answers)
    swap_rows = [[r.prior, r.time, "primary" if r.primary else "secondary", _ci(r.trained), _ci(r.exact),
                  r.excess.text(signed=True), "–" if r.p_holm is None else f"{r.p_holm:.3f}",
                  "reliable" if r.reliable else "no reliable difference"] for r in result.swap]
    lik_rows = [[r.name, _ci(r.bits_per_dim), "–" if r.versus_white is None else r.versus_white.text(signed=True),
                 "–" if r.p_holm is None else f"{r.p_holm:.3f}",
                 "–" if r.calibration is None else f"{r.calibration:+.4f}",
                 "–" if r.integration is None else f"{r.integration:+.4f}"] for r in result.likelihood]
    return f"""
<h2 id="probe">Beyond correlation: a causal band-swap test and likelihoods</h2>
<p>Seeds {", ".join(str(s) for s in result.seeds)}; {result.n_pairs} trajectory pairs per model; likelihoods of
{result.n_test_patches} held-out test patches.</p><ul>{answers}</ul>
<h3>Do fine bands follow the coarse bands they are generated after?</h3>
<p class='note'>At time t the DCT coefficients below {result.k_cut} along mel (the coarse spectral envelope) of two
trajectories are swapped and sampling finishes. Donor share of the bands above them (not swapped): 0 when the fine
content stays the trajectory's own, 1 when it follows the donor's coarse content. The exact linear-Gaussian model
(same prior, same data spectrum, same initial noise) is the calibration: its modes evolve independently, so its
share is only the leakage of its flow map between DCT bands. Headline share: the kept bands pooled per pair, the
pairs' ratios averaged. Exact sign-flip test over per-seed mean excesses, Holm within two families: the primary
test (one pre-specified swap time per prior) and the other times; intervals by two-level bootstrap over seeds and
pairs at {100 * result.swap_level:.1f}% (primary) and {100 * (result.swap_secondary_level or result.swap_level):.1f}%
(secondary), the families' Bonferroni levels.</p>
{_table(["prior", "swap at t", "family", "trained share", "exact Gaussian share", "excess (paired)", "Holm p", "verdict"], swap_rows)}
{_figure(out_dir, "probe_swap.png", "donor share per quefrency band", "Per band: ratio of sums over pairs. Shaded: the swapped coefficients (near 1 for the Gaussian model; a trained model may rewrite them later). To the right, a trained line above its dashed exact line means fine content made from the coarse content it was given.")}
<h3>Likelihood of held-out patches per prior</h3>
<p class='note'>Bits per dimension through the probability-flow ODE (RK4, Hutchinson trace estimate) in model space
(centred, scaled log-mel), so only differences between rows mean something. Calibration: the same ODE pipeline on
the exact Gaussian field minus its closed form (should be ≈ 0); integration: the first seed at half the RK4 steps
minus full; a difference at most twice either check gets no verdict. Intervals by crossed bootstrap (seeds and the
shared test patches) at {100 * result.likelihood_level:.1f}% (Bonferroni over the priors compared with white);
exact sign-flip test over seeds, Holm-adjusted.</p>
{_table(["model", "bits/dim", "minus white", "Holm p", "calibration", "integration check"], lik_rows)}
{_figure(out_dir, "probe_likelihood.png", "bits per dimension per prior", "Lower is better; the Gaussian with the training spectrum is the second-order baseline.")}
"""


def baselines_section(result: BaselinesResult, out_dir: Path) -> str:
    """HTML for ``audiospec baselines``: explicit coarse-to-fine models beside the diffusion models, calibrated."""
    answers = "".join(f"<li>{html.escape(a)}</li>" for a in result.answers)
    metrics = ["kid_classifier", "fd_classifier", "rapsd_error", "cepstrum_error", "lsd", "mcd_nn_mean"]
    rows = [[name, steps, *(_ci(per_metric.get(m)) for m in metrics)]
            for name in (*result.names, *(n for n in result.metrics if n not in result.names))
            for steps, per_metric in result.metrics[name].items()]
    rows += [[f"reference: {name}", "–", *(_fmt(values.get(m)) for m in metrics)] for name, values in result.floors.items()]
    diff_rows = [[name, steps, metric, _ci(d), "–" if d.p_holm is None else f"{d.p_holm:.3f}",
                  "primary" if d.primary else "secondary", "reliable" if d.reliable else "no reliable difference"]
                 for name, per_steps in result.difference_to_white.items() for steps, per_metric in per_steps.items()
                 for metric, d in per_metric.items() if d is not None and metric == "kid_classifier"]
    speed = ", ".join(f"{name} {v:.2f}" for name, v in result.train_steps_per_second.items()) or "not measured"
    return f"""
<h2 id="baselines">Explicit coarse-to-fine models: cepstral autoregression and heat dissipation</h2>
<p>Seeds {", ".join(str(s) for s in result.seeds)}; every model has the compare section's budget (same U-Net,
optimiser, steps and training split) and is sampled with one network evaluation per step from the same noise seeds;
{result.n_test_patches} test patches. The cepstral model generates {result.n_stages} quefrency bands in turn (the
commit measure's bands), each by flow matching given the lower ones; heat dissipation blurs and un-blurs
(IHDM, sampler η = {result.heat_eta:g}). Training throughput (steps/s, this machine): {html.escape(speed)}.</p>
<ul>{answers}</ul>
<p class='note'>Rows "exact Gaussian, …" are each baseline's calibration: the same sampler with the exact network for
Gaussian data with the training split's mean and variance per coefficient. Differences to the white-prior diffusion
model paired by seed; exact sign-flip tests, Holm within the primary family (KID at {result.primary_steps} steps,
one test per baseline) and within the secondary rest; intervals at the families' Bonferroni levels.</p>
{_table(["model", "steps", *metrics], rows)}
{_table(["baseline", "steps", "metric", "difference to white", "Holm p", "family", "verdict"], diff_rows)}
{_figure(out_dir, "baselines_kid.png", "KID against steps", "Lower is better. Thick lines: the explicit coarse-to-fine models; dotted: their samplers with the exact Gaussian network; grey: the floor and the Gaussian with the training spectrum.")}
"""


def _ci(stat: Interval | None) -> str:
    return "–" if stat is None else stat.text()


def _player(out_dir: Path, wav: str, png: str, caption: str) -> str:
    return (
        f"<figure><figcaption>{html.escape(caption)}</figcaption>"
        f'<audio controls preload="auto" src="{data_uri(_asset(out_dir, wav))}"></audio>'
        f'<img src="{data_uri(_asset(out_dir, png))}" alt="spectrogram {html.escape(caption)}"></figure>'
    )


_CORRUPT_NOTE = ("Waveform-domain noise is added at an SNR; mel-domain noise at flow time t (x_t = (1 − t) x0 + t ε "
                 "on the centred log-mel patch, inverted with Griffin-Lim). 'griffin_lim' is the clean mel patch "
                 "through the same inversion, the reference for the mel rows. The files of one clip share one gain, "
                 "so their levels and SNRs are as computed.")
_GENERATED_NOTE = ("Sample k of every prior starts from the same white draw (coloured for each prior), so the "
                   "priors can be compared by ear side by side. The trajectory rows play the model's data "
                   "prediction x̂0(t) from noise (t = 1) to data (t = 0), with how many quefrency bands have "
                   "committed by then: under white noise the spectral envelope settles before the fine structure.")


_ENTRY_KEYS = ("clip", "label", "domain", "prior", "level", "wav", "png")


def read_manifest(path: Path) -> dict[str, Any]:
    """A listening manifest (``corrupt.json``, compare's ``listening.json``): ``files``, each entry with
    :data:`_ENTRY_KEYS`; AudiospecError naming the file and the first damaged entry otherwise."""
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, list):
        raise AudiospecError(f"{str(path)!r} lacks its list of 'files'; re-run the step that writes it")
    for i, entry in enumerate(files):
        missing = [k for k in _ENTRY_KEYS if k not in entry] if isinstance(entry, dict) else list(_ENTRY_KEYS)
        if missing or not isinstance(entry["clip"], (int, str)):
            raise AudiospecError(f"{str(path)!r}: files[{i}] = {entry!r} lacks {missing or ['a clip number']}; the "
                                 "file is damaged: re-run the step that writes it")
    return manifest


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
            players = "".join(_player(out_dir, e["wav"], e["png"], e["level"]) for e in group)
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
