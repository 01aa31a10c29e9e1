//! The sample production config the package installs (`packaging/ferrowall.toml`): it
//! is valid, every field in it is explained by a comment, and it names every field the
//! config knows (set, or shown commented out), so a field added to the schema without
//! a word for operators fails here.
use ctrlplane::config::{load_str, set_available_cpus, validate};
use std::collections::BTreeSet;
use std::path::Path;

const FILE: &str = "packaging/ferrowall.toml";

fn sample() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(FILE);
    std::fs::read_to_string(path).expect("the sample config")
}

/// Tables whose fields the sample must cover, as `[name]` or `[[name]]`; `bench` is for
/// benchmarks only and stays out of a production sample.
const TABLES: &[&str] = &[
    "",
    "eal",
    "cores",
    "buffers",
    "port",
    "route",
    "neighbour",
    "arp",
    "icmp",
    "sessions",
    "fragments",
    "timeouts",
    "zone",
    "policy",
    "nat_pool",
    "nat",
    "alg",
    "alg.pptp",
    "management",
    "metrics",
    "log",
];

#[test]
fn the_sample_is_valid_for_a_server_with_its_cores() {
    // Written for a server with CPUs 0-3; this machine may have fewer.
    set_available_cpus(Some((0..4).collect()));
    let text = sample();
    let cfg = load_str(&text, FILE).unwrap_or_else(|e| panic!("{e}"));
    let v = validate(&cfg, FILE, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.workers(), 2);
    assert!(v.eal.args().iter().any(|a| a == "-a"), "real NICs, by PCI address");
}

#[test]
fn every_field_is_commented() {
    let text = sample();
    let lines: Vec<&str> = text.lines().collect();
    let mut bare = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('[') {
            continue;
        }
        // A comment of its own: on the line above, or after the value.
        let explained = (i > 0 && lines[i - 1].trim().starts_with('#')) || l.contains(" # ");
        if !explained {
            bare.push(format!("{FILE}:{}: {l}", i + 1));
        }
    }
    assert!(bare.is_empty(), "fields without a comment:\n{}", bare.join("\n"));
}

#[test]
fn every_field_the_config_knows_is_in_the_sample() {
    let text = sample();
    let mut missing = Vec::new();
    for table in TABLES {
        for field in known_fields(table) {
            if !mentions(&text, table, &field) {
                missing.push(format!(
                    "{}{field}",
                    if table.is_empty() { String::new() } else { format!("{table}.") }
                ));
            }
        }
    }
    assert!(missing.is_empty(), "fields the sample never mentions: {missing:?}");
}

/// The schema's own list of a table's fields: an unknown field is refused with the
/// fields expected instead.
fn known_fields(table: &str) -> BTreeSet<String> {
    let probe = match table {
        "" => "zz_probe = 0\n".to_owned(),
        "port" | "route" | "neighbour" | "zone" | "policy" | "nat_pool" | "nat" => {
            format!("[[{table}]]\nzz_probe = 0\n")
        }
        t => format!("[{t}]\nzz_probe = 0\n"),
    };
    let err = load_str(&probe, "probe.toml").expect_err("an unknown field is refused").to_string();
    let list = err.split("expected one of").nth(1).or_else(|| err.split("expected").nth(1));
    let list = list.unwrap_or_else(|| panic!("no list of fields in {err:?}"));
    list.split('`').skip(1).step_by(2).map(str::to_owned).filter(|f| f != "bench").collect()
}

/// `field = ` set or shown commented out, after the table's header (`[[port]]` ...).
fn mentions(text: &str, table: &str, field: &str) -> bool {
    // A field that is a table of its own: its header.
    let sub = format!("[{table}.{field}]");
    if !table.is_empty() && text.lines().any(|l| l.trim_start_matches('#').trim() == sub) {
        return true;
    }
    let body = match table {
        "" => text,
        t => {
            let header = [format!("[{t}]"), format!("[[{t}]]")];
            let Some(at) = text.lines().position(|l| {
                let l = l.trim_start_matches('#').trim();
                header.iter().any(|h| l == h)
            }) else {
                return false;
            };
            return text.lines().skip(at + 1).any(|l| is_key(l, field));
        }
    };
    // Top level: a table of that name.
    body.lines().any(|l| {
        let l = l.trim_start_matches('#').trim();
        l == format!("[{field}]") || l == format!("[[{field}]]") || l.starts_with(&format!("[{field}."))
    })
}

fn is_key(line: &str, field: &str) -> bool {
    let l = line.trim_start_matches('#').trim();
    l.strip_prefix(field).is_some_and(|rest| rest.trim_start().starts_with('='))
}
