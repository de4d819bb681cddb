//! Prints fake credentials in real formats, for fixtures, rule examples and benchmarks.
//!
//! `keyhound-fake KIND [SEED]` prints one value; `keyhound-fake --list` lists the kinds;
//! `keyhound-fake shape:SHAPE [SEED]` fills a shape such as `dop_v1_{h:64}`.

use keyhound_testkit::kinds::{KINDS, generate};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            for k in KINDS {
                println!("{k}");
            }
            std::process::ExitCode::SUCCESS
        }
        Some(kind) => {
            let seed = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1);
            match generate(kind, seed) {
                Some(v) => {
                    println!("{v}");
                    std::process::ExitCode::SUCCESS
                }
                None => {
                    eprintln!("error: unknown kind {kind:?}; see --list");
                    std::process::ExitCode::from(2)
                }
            }
        }
        None => {
            eprintln!("usage: keyhound-fake KIND [SEED] | --list");
            std::process::ExitCode::from(2)
        }
    }
}
