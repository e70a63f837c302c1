"""Jobs a detector's reactions may launch, and the op of each that takes the signal as config."""

import dagster as dg

from ops_pipeline.jobs.signal_diagnosis import diagnose_signal

# job name -> (job, name of the op whose config is SignalConfig)
REACTION_JOBS: dict[str, tuple[dg.JobDefinition, str]] = {
    "diagnose_signal": (diagnose_signal, "diagnose"),
}
