//! Integration tests for cairn-sbom: the documents are checked with the real validators
//! (spdx-tools' `pyspdxtools` and cyclonedx-python-lib's strict JSON validator) from the
//! Python environment `scripts/setup-host.sh` creates.

mod fixtures;
mod props;
mod snapshots;
mod validate;
mod validators;
