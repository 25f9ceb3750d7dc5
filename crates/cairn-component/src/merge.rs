//! Layering component configuration: distro version defaults, then project defaults, then
//! each group's defaults (by group name), then the component itself. Later layers win for
//! scalars, arrays append (`overlays`, `with`, `without`, `undefines`, `source-files`),
//! maps merge key by key (`defines`, `packages`); `overlay-files` replaces.

use crate::types::*;

fn pick<T: Clone>(base: &Option<T>, over: &Option<T>) -> Option<T> {
    over.clone().or_else(|| base.clone())
}

fn append<T: Clone + PartialEq>(base: &[T], over: &[T]) -> Vec<T> {
    let mut v = base.to_vec();
    v.extend(over.iter().cloned());
    v
}

/// Append strings, dropping repeats (a switch set twice is set once).
fn append_unique(base: &[String], over: &[String]) -> Vec<String> {
    let mut v = base.to_vec();
    for s in over {
        if !v.contains(s) {
            v.push(s.clone());
        }
    }
    v
}

/// `over` layered on top of `base`.
pub fn merge_component(base: &ComponentConfig, over: &ComponentConfig) -> ComponentConfig {
    ComponentConfig {
        spec: match (&base.spec, &over.spec) {
            (Some(b), Some(o)) => Some(merge_spec(b, o)),
            (b, o) => pick(b, o),
        },
        release: match (&base.release, &over.release) {
            (Some(b), Some(o)) => Some(ReleaseConfig {
                calculation: pick(&b.calculation, &o.calculation),
            }),
            (b, o) => pick(b, o),
        },
        overlays: append(&base.overlays, &over.overlays),
        overlay_files: pick(&base.overlay_files, &over.overlay_files),
        build: match (&base.build, &over.build) {
            (Some(b), Some(o)) => Some(merge_build(b, o)),
            (b, o) => pick(b, o),
        },
        render: match (&base.render, &over.render) {
            (Some(b), Some(o)) => Some(RenderConfig {
                skip_file_filter: pick(&b.skip_file_filter, &o.skip_file_filter),
            }),
            (b, o) => pick(b, o),
        },
        source_files: append(&base.source_files, &over.source_files),
        packages: {
            let mut m = base.packages.clone();
            for (k, v) in &over.packages {
                let merged = match m.get(k) {
                    Some(b) => merge_package(b, v),
                    None => v.clone(),
                };
                m.insert(k.clone(), merged);
            }
            m
        },
        publish: match (&base.publish, &over.publish) {
            (Some(b), Some(o)) => Some(ComponentPublishConfig {
                rpm_channel: pick(&b.rpm_channel, &o.rpm_channel),
                srpm_channel: pick(&b.srpm_channel, &o.srpm_channel),
                debuginfo_channel: pick(&b.debuginfo_channel, &o.debuginfo_channel),
            }),
            (b, o) => pick(b, o),
        },
    }
}

/// A package's settings layered.
pub(crate) fn merge_package(base: &PackageConfig, over: &PackageConfig) -> PackageConfig {
    PackageConfig {
        publish: match (&base.publish, &over.publish) {
            (Some(b), Some(o)) => Some(PackagePublishConfig {
                rpm_channel: pick(&b.rpm_channel, &o.rpm_channel),
                debuginfo_channel: pick(&b.debuginfo_channel, &o.debuginfo_channel),
                channel: pick(&b.channel, &o.channel),
            }),
            (b, o) => pick(b, o),
        },
    }
}

fn merge_spec(b: &SpecSource, o: &SpecSource) -> SpecSource {
    let kind = match o.kind {
        None | Some(SpecSourceKind::Inherit) => b.kind,
        k => k,
    };
    SpecSource {
        kind,
        path: pick(&b.path, &o.path),
        upstream_distro: match (&b.upstream_distro, &o.upstream_distro) {
            (Some(bd), Some(od)) if bd.name == od.name => Some(DistroRef {
                name: od.name.clone(),
                version: pick(&bd.version, &od.version),
                snapshot: pick(&bd.snapshot, &od.snapshot),
            }),
            (bd, od) => pick(bd, od),
        },
        upstream_name: pick(&b.upstream_name, &o.upstream_name),
        upstream_commit: pick(&b.upstream_commit, &o.upstream_commit),
    }
}

fn merge_build(b: &BuildConfig, o: &BuildConfig) -> BuildConfig {
    let mut defines = b.defines.clone();
    defines.extend(o.defines.iter().map(|(k, v)| (k.clone(), v.clone())));
    BuildConfig {
        with: append_unique(&b.with, &o.with),
        without: append_unique(&b.without, &o.without),
        defines,
        undefines: append_unique(&b.undefines, &o.undefines),
        check: match (&b.check, &o.check) {
            (Some(bc), Some(oc)) => Some(CheckConfig {
                skip: pick(&bc.skip, &oc.skip),
                // A component that turns checks back on does not inherit the reason.
                skip_reason: if oc.skip == Some(false) {
                    oc.skip_reason.clone()
                } else {
                    pick(&bc.skip_reason, &oc.skip_reason)
                },
            }),
            (bc, oc) => pick(bc, oc),
        },
        failure: match (&b.failure, &o.failure) {
            (Some(bf), Some(of)) => Some(FailureConfig {
                expected: pick(&bf.expected, &of.expected),
                expected_reason: pick(&bf.expected_reason, &of.expected_reason),
            }),
            (bf, of) => pick(bf, of),
        },
        hints: match (&b.hints, &o.hints) {
            (Some(bh), Some(oh)) => Some(BuildHints {
                expensive: pick(&bh.expensive, &oh.expensive),
            }),
            (bh, oh) => pick(bh, oh),
        },
    }
}
