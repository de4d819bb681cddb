//! Unit tests of archive reading.
