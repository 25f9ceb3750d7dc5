//! cairn-disk (being written).
