"""`warm_up()` loads (or compiles) every kernel up front, e.g. when the code location starts."""

from __future__ import annotations

import numpy as np

from ops_pipeline.core.detectors.batch import detect_batch
from ops_pipeline.core.detectors.kernels import _PARALLEL_LOCK, _batch_parallel
from ops_pipeline.core.detectors.params import _as_timestamps, _as_values, _params
from ops_pipeline.core.detectors.spec import DetectorSpec
from ops_pipeline.core.detectors.streaming import update_many


def warm_up() -> None:
    """Load (or, the first time, compile) every kernel now rather than on the first real call.

    The kernels receive read-only views of their inputs whatever the caller passes (writable numpy arrays or
    the read-only arrays pandas 3 hands out), so this one signature per kernel is every signature they run.
    """
    ts = _as_timestamps(np.arange(3, dtype=np.int64))
    vals = _as_values(np.zeros((1, 3)))
    spec = DetectorSpec(kind="zscore")
    p = _params(spec)
    detect_batch(spec, ts, vals)
    with _PARALLEL_LOCK:
        _batch_parallel(ts, vals, np.empty((1, 3)), np.empty((1, 3), dtype=np.bool_), p.size, *p.args)
    update_many(spec, None, ts, vals[0])
