//! Every corpus and regression file through its harness: what the fuzzers found stays
//! found, on stable, in every test run.
use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("readable");
            harness(&data);
            files += 1;
        }
    }
    assert!(files > 0, "no corpus for {target}: the replay would prove nothing");
}

#[test]
fn packet_views_corpus() {
    replay("packet_views", crate::packet_views);
}

#[test]
fn pptp_stream_corpus() {
    replay("pptp_stream", crate::pptp_stream);
}

#[test]
fn pipeline_corpus() {
    replay("pipeline", crate::pipeline);
}

/// Inputs no fuzzer needs to find: nothing, and runs of every byte value.
#[test]
fn trivial_inputs() {
    for harness in [crate::packet_views as fn(&[u8]), crate::pptp_stream, crate::pipeline] {
        harness(&[]);
        for b in [0u8, 1, 0x7f, 0x80, 0xff] {
            harness(&[b; 600]);
        }
    }
}
