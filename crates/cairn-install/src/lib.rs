//! cairn-install (being written).
