//! cairn-archive (being written).
