//! Any bytes as a file named `x.jar`: zips read in place (and behind a prefix), `docker
//! save` archives read as images, and everything the stream target covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.jar");
    std::fs::write(&path, data).expect("write");
    keyhound_sources::fs_walk::scan_file(&path, &common::limits(), &mut common::Check);
});
