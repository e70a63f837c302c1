"""The backfill's two blocking checks: the sample validation that gates the load, and the reconciliation of
every loaded window (counts and checksums on both sides)."""

import dagster as dg

from ops_pipeline.backfill.pipeline import Window
from ops_pipeline.core.sample_validation import SampleVerdict
from ops_pipeline.markdown import table
from ops_pipeline.store.manifests import ManifestRecord

VALIDATE = "validate_sample"
RECONCILE = "reconciliation"


def validation_result(windows: list[Window], verdicts: list[SampleVerdict]) -> dg.AssetCheckResult:
    rows = (
        (w.key, v.sampled, f"{v.score:.3f}", "; ".join(v.reasons) or "all rules pass")
        for w, v in zip(windows, verdicts, strict=True)
    )
    return dg.AssetCheckResult(
        check_name=VALIDATE,
        passed=all(v.passed for v in verdicts),
        metadata={
            "lowest_score": min(v.score for v in verdicts) if verdicts else 1.0,
            "threshold": verdicts[0].threshold if verdicts else 1.0,
            "windows": dg.MetadataValue.md(table(["window", "sampled", "score", "findings"], rows)),
        },
    )


def refusal(failed: list[tuple[Window, SampleVerdict]]) -> str:
    lines = [f"{w.key}: score {v.score:.3f} < {v.threshold}: {'; '.join(v.reasons)}" for w, v in failed]
    return "sample validation failed, nothing was loaded:\n" + "\n".join(lines)


def reconciliation_result(records: list[ManifestRecord]) -> dg.AssetCheckResult:
    mismatched = [r for r in records if not r.reconciled]
    rows = (
        (
            r.partition_key,
            r.rows_read,
            r.rows_written,
            r.source_checksum,
            r.destination_checksum,
            "yes" if r.reconciled else "**no**",
        )
        for r in records
    )
    return dg.AssetCheckResult(
        check_name=RECONCILE,
        passed=not mismatched,
        metadata={
            "windows": len(records),
            "mismatched_windows": len(mismatched),
            "detail": dg.MetadataValue.md(table(["window", "read", "written", "source", "destination", "match"], rows)),
        },
    )
