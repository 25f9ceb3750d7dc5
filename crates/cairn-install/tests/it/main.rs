//! Integration tests for cairn-install: real dpkg, rpm, Debian packages from the host's
//! apt sources, and an RPM fixture root built with rpmbuild. They need root (the install
//! does) and fail, naming what is missing, when a tool or privilege is not there.

mod common;
mod deb;
mod rpm;
