//! Integration tests of the `keyhound` binary.

mod bad_input;
mod common;
mod exit_codes;
mod fixtures;
mod formats;
mod gitleaks;
mod recall;
mod rules;
mod scan_options;
