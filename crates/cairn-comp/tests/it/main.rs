//! End-to-end tests of components against fixture upstreams: real git repositories (bare,
//! with branches and several commits) and a lookaside directory made by
//! `scripts/fixtures/upstream.sh`, a real `git`, and `rpmbuild -bs` on the result.

mod project;
mod render;
