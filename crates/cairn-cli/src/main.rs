//! The `cairn` binary: argument parsing, wiring and output. No logic of its own.
fn main() -> anyhow::Result<()> {
    Ok(())
}
