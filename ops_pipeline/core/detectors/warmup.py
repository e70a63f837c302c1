"""`warm_up()` loads (or compiles) every kernel up front, e.g. when the code location starts."""

from __future__ import annotations

import numpy as np

from ops_pipeline.core.detectors.batch import detect_batch
from ops_pipeline.core.detectors.kernels import _PARALLEL_LOCK, _batch_parallel
from ops_pipeline.core.detectors.params import _params
from ops_pipeline.core.detectors.spec import DetectorSpec
from ops_pipeline.core.detectors.streaming import update


def warm_up() -> None:
    """Load (or, the first time, compile) every kernel now rather than on the first real call."""
    ts = np.arange(3, dtype=np.int64)
    vals = np.zeros((1, 3))
    for spec in (DetectorSpec(kind="zscore"), DetectorSpec(kind="ewma")):
        p = _params(spec)
        detect_batch(spec, ts, vals)
        with _PARALLEL_LOCK:
            _batch_parallel(ts, vals, np.empty((1, 3)), np.empty((1, 3), dtype=np.bool_), p.size, *p.args)
        update(spec, None, 0, 0.0)
