"""Typed config loading: nested dataclasses from dicts/YAML, unknown keys rejected, round trip."""

from dataclasses import dataclass, field

import pytest
import yaml

from audiospec.config import choices, config_from_dict, config_to_dict, load_config, read_yaml, save_config
from audiospec.errors import AudiospecError
from audiospec.experiments.stages.analysis import AnalysisConfig
from audiospec.transforms import MelConfig


@dataclass(frozen=True)
class Inner:
    rate: int = 1
    names: tuple[str, ...] = ("a",)


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    maybe: Inner | None = None
    scale: float = 2.0


def test_nested_dicts_build_nested_dataclasses_and_lists_become_tuples():
    cfg = config_from_dict(Outer, {"inner": {"rate": 5, "names": ["x", "y"]}, "maybe": {"rate": 3}, "scale": 0.5})
    assert cfg.inner == Inner(rate=5, names=("x", "y"))
    assert cfg.maybe == Inner(rate=3)
    assert cfg.scale == 0.5


def test_unknown_keys_are_rejected_with_the_valid_ones_listed():
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['rte'\] in config.inner; valid keys are \['names', 'rate'\]"):
        config_from_dict(Outer, {"inner": {"rte": 5}})
    with pytest.raises(AudiospecError, match=r"unknown key\(s\) \['typo'\]"):
        config_from_dict(Outer, {"typo": 1})


def test_non_mapping_is_rejected():
    with pytest.raises(AudiospecError, match="must be a mapping"):
        config_from_dict(Outer, ["not", "a", "dict"])  # type: ignore[arg-type]


def test_validation_in_post_init_still_runs():
    with pytest.raises(AudiospecError, match="f_min < f_max"):
        config_from_dict(MelConfig, {"f_min": 20000.0})
    with pytest.raises(AudiospecError, match=r"config.rapsd_mode must be one of 'pysteps', 'normalized', got 'radial'"):
        config_from_dict(AnalysisConfig, {"rapsd_mode": "radial"})


def test_save_then_load_round_trips(tmp_path):
    cfg = config_from_dict(AnalysisConfig, {"mel": {"n_mels": 80}, "hinge_times": [0.1, 0.9],
                                            "priors": ["white", "beta=2"]})
    path = tmp_path / "run" / "config.yaml"
    save_config(cfg, path)
    assert yaml.safe_load(path.read_text())["mel"]["n_mels"] == 80
    assert load_config(AnalysisConfig, path) == cfg
    assert config_to_dict(cfg)["hinge_times"] == [0.1, 0.9]
    assert config_to_dict(cfg)["priors"] == ["white", "brown"]


def test_load_config_reads_a_section_and_reports_bad_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("analysis:\n  tau: 2.0\n")
    assert load_config(AnalysisConfig, path, section="analysis").tau == 2.0
    path.write_text("analysis: [unclosed\n")
    with pytest.raises(AudiospecError, match="not valid YAML"):
        load_config(AnalysisConfig, path, section="analysis")
    with pytest.raises(AudiospecError, match="does not exist"):
        load_config(AnalysisConfig, tmp_path / "missing.yaml")


@pytest.mark.parametrize("cls, data, match", [
    (AnalysisConfig, {"patch_frames": "32"}, r"config.patch_frames must be an integer, got '32'"),
    (AnalysisConfig, {"patch_frames": 25.5}, r"config.patch_frames must be an integer, got 25.5"),
    (AnalysisConfig, {"n_bootstrap": "50"}, r"config.n_bootstrap must be an integer, got '50'"),
    (AnalysisConfig, {"patch_frames": True}, r"config.patch_frames must be an integer, got True"),
    (AnalysisConfig, {"fmax_times": [0.5, "half"]}, r"config.fmax_times\[1\] must be a number, got 'half'"),
    (AnalysisConfig, {"fmax_times": 0.5}, r"config.fmax_times must be a list of a number, got 0.5"),
    (AnalysisConfig, {"ring_step": "medium"}, r"config.ring_step must be one of 'fine', 'coarse', got 'medium'"),
    (AnalysisConfig, {"mel": "big"}, r"config.mel must be a mapping of MelConfig settings, got 'big'"),
    (AnalysisConfig, {"tau": "1e-3"}, r"config.tau must be a number, got '1e-3' \(YAML reads '1e-3' as text: .*1.0e-3"),
])
def test_types_and_choices_are_checked_when_the_config_is_read(cls, data, match):
    with pytest.raises(AudiospecError, match=match):
        config_from_dict(cls, data)


def test_ints_are_accepted_for_floats_and_lists_become_tuples():
    cfg = config_from_dict(AnalysisConfig, {"tau": 2, "hinge_times": [0.5]})
    assert cfg.tau == 2.0 and isinstance(cfg.tau, float) and cfg.hinge_times == (0.5,)


def test_choices_come_from_the_literal():
    from audiospec.functional.rapsd import RingStep

    assert choices(RingStep) == ("fine", "coarse")


def test_read_yaml_rejects_non_utf8_and_folders(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00x")
    with pytest.raises(AudiospecError, match=r"bad.yaml' is not UTF-8 text .*save it as UTF-8"):
        read_yaml(bad)
    with pytest.raises(AudiospecError, match=r"is a folder; pass a YAML file"):
        read_yaml(tmp_path)


def test_a_key_written_twice_is_an_error_naming_the_key_the_lines_and_the_file(tmp_path):
    # plain YAML keeps the last value: `steps: 8` would silently win over `steps: 4`
    path = tmp_path / "twice.yaml"
    path.write_text("compare:\n  train:\n    steps: 4\n    batch_size: 4\n    steps: 8\n")
    with pytest.raises(AudiospecError, match=r"twice.yaml' is not valid YAML: .*key 'steps' is written twice "
                                             r"\(lines 3 and 5\); keep one of them"):
        read_yaml(path)
    path.write_text("data: {dataset: mini}\nanalysis: {tau: 1.0}\ndata: {dataset: folder:x}\n")
    with pytest.raises(AudiospecError, match=r"key 'data' is written twice \(lines 1 and 3\)"):
        read_yaml(path)
    path.write_text("a: {x: 1}\nb: {x: 1}\n")  # the same key in two mappings is fine
    assert read_yaml(path) == {"a": {"x": 1}, "b": {"x": 1}}


@pytest.mark.parametrize("text, match", [
    ("tau: .nan\n", r"config.tau must be a finite number, got nan"),
    ("hinge_times: [0.5, .inf]\n", r"config.hinge_times\[1\] must be a finite number, got inf"),
])
def test_numbers_must_be_finite(tmp_path, text, match):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(AudiospecError, match=match):
        config_from_dict(AnalysisConfig, read_yaml(path))


def test_a_check_of_a_nested_config_names_the_file_and_section(tmp_path):
    path = tmp_path / "recipe.yaml"
    path.write_text("analysis:\n  mel: {f_min: 20000.0}\n")
    with pytest.raises(AudiospecError, match=r"recipe.yaml:analysis.mel: need 0 <= f_min < f_max"):
        load_config(AnalysisConfig, path, section="analysis")
