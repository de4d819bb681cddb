//! Matcher throughput on generated text (see bench/ for whole-scan benchmarks).
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus() -> Vec<u8> {
    // Source-like text with a few credentials, repeated to 8 MiB.
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 8 << 20 {
        i += 1;
        text.push_str(&format!(
            "fn handler_{i}(req: &Request) -> Result<Response, Error> {{\n    let token = req.header(\"Authorization\");\n    let password = config.get(\"db.password\").unwrap_or_default();\n    log::debug!(\"processing {{}} bytes\", req.body().len());\n}}\n"
        ));
        if i % 5000 == 0 {
            text.push_str(&format!(
                "ARTIFACTORY_API_KEY={}\n",
                keyhound_testkit::fake::jfrog_api_key(i)
            ));
        }
    }
    text.into_bytes()
}

fn prose() -> Vec<u8> {
    // Text with no rule literal: the prefilter's floor.
    let words = [
        "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "while", "static",
        "function", "return", "value", "struct", "impl", "match", "loop", "while", "const", "size",
    ];
    let mut text = String::new();
    let mut i = 0usize;
    while text.len() < 8 << 20 {
        i = i.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        text.push_str(words[(i >> 16) % words.len()]);
        text.push(if i % 11 == 0 { '\n' } else { ' ' });
    }
    text.into_bytes()
}

fn bench(c: &mut Criterion) {
    let rules = keyhound_rules::builtin().expect("rules");
    let matcher =
        keyhound_engine::Matcher::new(rules, keyhound_engine::Options::default()).expect("compile");
    let data = corpus();
    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);
    // Every line has a keyword (token, password, Authorization): the dense worst case.
    group.bench_function("builtin_rules_source_text", |b| {
        let mut scratch = matcher.scratch();
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            matcher.scan(&data, &mut scratch, &mut out);
            out.len()
        })
    });
    let plain = prose();
    group.throughput(Throughput::Bytes(plain.len() as u64));
    group.bench_function("builtin_rules_plain_text", |b| {
        let mut scratch = matcher.scratch();
        let mut out = Vec::new();
        b.iter(|| {
            out.clear();
            matcher.scan(&plain, &mut scratch, &mut out);
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
