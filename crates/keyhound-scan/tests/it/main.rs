//! Integration tests of keyhound-scan, on real repositories made with `git`.

mod incremental;
