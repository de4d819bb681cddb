//! Integration tests of the `keyhound` binary.

mod archive_bad_input;
mod archives;
mod bad_input;
mod common;
mod exit_codes;
mod fixtures;
mod formats;
mod git;
mod gitleaks;
mod images;
mod jfrog_respond;
mod jfrog_scan;
mod jfrog_validate;
mod recall;
mod rules;
mod scan_options;
mod snapshots;
mod store;
mod streams;
