//! One small SPDX and one small CycloneDX document, pinned.

use crate::fixtures::small_input;

#[test]
fn small_spdx() {
    insta::assert_snapshot!(cairn_sbom::spdx_json(&small_input()).unwrap());
}

#[test]
fn small_cyclonedx() {
    insta::assert_snapshot!(cairn_sbom::cyclonedx_json(&small_input()).unwrap());
}
