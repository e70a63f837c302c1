"""Anomaly detectors of the insight engine: rolling z-score and EWMA, in a batch and a streaming form.

Pure domain logic (numpy + numba, no Dagster). A `DetectorSpec` describes one detector; `detect_batch` scores a
whole matrix of series (one row per series, one shared timestamp axis) in a single compiled pass, and `update`
(`update_many`) advances a persisted `StreamState` by one point (a chunk of points) at each sensor tick. Both forms
run the very same compiled per-series loop (`_run_series`) on the same state vector, so they give bit-identical
scores and the same signals on the same data; the tests assert it.

Modules
    spec        `DetectorSpec`, and the exact semantics of each field (valid points, score, warm-up, zero scale,
                threshold and direction, k of n confirmation, cooldown).
    kernels     the numba kernels (per-family loops, k-of-n and cooldown, batch drivers), the state vector
                layout, numerics, compilation and threads.
    params      a spec flattened into the kernels' scalar arguments and its state `Layout`; timestamps as int64
                epoch seconds.
    batch       `detect_batch`, `detect_series`, `BatchResult`, `Signal`, `signals_of`.
    state       `StreamState`: the persisted per-series state, its compact binary form and its checks.
    pages       a state cut into pages, and the pages one streaming update needs.
    streaming   `update`, `update_many`.
    warmup      `warm_up`.
"""

from ops_pipeline.core.detectors.batch import BatchResult, Signal, detect_batch, detect_series, signals_of
from ops_pipeline.core.detectors.kernels import _H_COUNT as _H_COUNT
from ops_pipeline.core.detectors.kernels import _H_ECOUNT as _H_ECOUNT
from ops_pipeline.core.detectors.kernels import _H_EPOS as _H_EPOS
from ops_pipeline.core.detectors.kernels import _H_M2 as _H_M2
from ops_pipeline.core.detectors.kernels import _H_MEAN as _H_MEAN
from ops_pipeline.core.detectors.kernels import _H_NSEEN as _H_NSEEN
from ops_pipeline.core.detectors.kernels import _H_POS as _H_POS
from ops_pipeline.core.detectors.kernels import _HEADER as _HEADER
from ops_pipeline.core.detectors.kernels import _batch_parallel as _batch_parallel
from ops_pipeline.core.detectors.kernels import _batch_serial as _batch_serial
from ops_pipeline.core.detectors.kernels import _jit as _jit
from ops_pipeline.core.detectors.params import Layout
from ops_pipeline.core.detectors.spec import DetectorSpec
from ops_pipeline.core.detectors.state import STATE_VERSION, StreamState
from ops_pipeline.core.detectors.streaming import IncompleteStateError, update, update_many
from ops_pipeline.core.detectors.warmup import warm_up

# The `_`-prefixed names imported above are internals the tests and benchmarks reach through this package
# (state slots, the jit helper, the batch kernels); they stay out of `__all__`.
__all__ = [
    "STATE_VERSION",
    "BatchResult",
    "DetectorSpec",
    "IncompleteStateError",
    "Layout",
    "Signal",
    "StreamState",
    "detect_batch",
    "detect_series",
    "signals_of",
    "update",
    "update_many",
    "warm_up",
]
