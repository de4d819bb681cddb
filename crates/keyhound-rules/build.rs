//! Embeds every `data/rules/*.yml` file, so that adding a rule file is pure data.
// A build script panics on any error with the path in the message; fs-err is not needed.
#![allow(clippy::disallowed_methods)]
use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let dir = Path::new("data/rules");
    println!("cargo:rerun-if-changed=data/rules");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .expect("data/rules exists in the crate")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// Built-in rule files: (file name, YAML text).\npub const BUILTIN_FILES: &[(&str, &str)] = &[\n",
    );
    for f in &files {
        println!("cargo:rerun-if-changed=data/rules/{f}");
        writeln!(
            out,
            "    ({f:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/data/rules/{f}\"))),"
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("builtin_rules.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
