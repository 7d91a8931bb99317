"""Session fixtures for the metric tests: one small classifier trained once."""

from __future__ import annotations

import pytest
import torch
from helpers_metrics import SMALL_CONFIG, two_class_patches

from audiospec.metrics import TrainedClassifier, train_classifier


@pytest.fixture(scope="session")
def two_class_data() -> tuple[torch.Tensor, list[str]]:
    return two_class_patches(40)


@pytest.fixture(scope="session")
def trained(two_class_data) -> TrainedClassifier:
    patches, labels = two_class_data
    return train_classifier(patches, labels, config=SMALL_CONFIG, progress=False)
