//! Test support for keyhound. Nothing here is compiled into the shipped binary: crates take it
//! only as a dev-dependency, and the bench scripts run its `keyhound-fake` binary.
//!
//! [`fake`] generates credentials in the real formats (right prefixes, lengths, alphabets,
//! checksums and JSON claims) from a seed. They are random, so they grant nothing anywhere.
//! [`plant`] puts them into realistic files and lines, with the ground truth a scan must find.
//! [`recall`] does the same for every built-in rule (the recall corpus).
//! [`archive`] builds archives, compressed streams and container images around them.
//! [`jfrog_emulator`] and [`vault_emulator`] are HTTP emulators of Artifactory + JFrog Access
//! and of Vault KV v2 that tests run on loopback ([`serve`]), over TLS with a throwaway CA
//! ([`tls`]) when needed. [`postgres`] gives each test a database of its own on a real
//! PostgreSQL.
//!
//! ```
//! let key = keyhound_testkit::fake::jfrog_api_key(7);
//! assert!(key.starts_with("AKCp") && key.len() == 73);
//! ```

pub mod archive;
pub mod fake;
pub mod fake_more;
pub mod git_http;
pub mod jfrog_emulator;
pub mod kinds;
pub mod plant;
pub mod postgres;
pub mod recall;
pub mod serve;
pub mod tls;
pub mod vault_emulator;
