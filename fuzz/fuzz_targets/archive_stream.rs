//! Any bytes on stdin: archive and compression detection, every decoder, tar and zip
//! (in memory and from local headers), nested.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    keyhound_sources::stream::read(&mut &data[..], "stdin", &common::limits(), &mut common::Check);
});
