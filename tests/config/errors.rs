//! Every file in `bad/` must be refused with exactly the error `bad/expected.txt` gives
//! (line, column, field and message); `good.toml` must pass.
use ctrlplane::config::{load_str, validate, ConfigError};
use std::collections::BTreeMap;
use std::path::Path;

fn check(path: &Path) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let cfg = load_str(&text, &file)?;
    validate(&cfg, &file, &text).map(|_| ())
}

fn expectations(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(dir.join("expected.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (file, rest) = l.split_once(": ").expect("FILE: LINE:COL: FIELD: MESSAGE");
            (file.to_owned(), rest.to_owned())
        })
        .collect()
}

#[test]
fn good_config_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    check(&dir.join("good.toml")).expect("good.toml is valid");
}

#[test]
fn bad_configs_name_file_line_and_field() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/bad");
    let expected = expectations(&dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "at least five bad configs");
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let got = match check(path) {
            Ok(()) => "accepted".to_owned(),
            Err(e) => {
                assert_eq!(e.file, name, "the error names the file");
                format!("{}:{}: {}: {}", e.line, e.column, e.field, e.message)
            }
        };
        match expected.get(&name) {
            Some(want) if *want == got => {}
            Some(want) => failures.push(format!("{name}\n  want: {want}\n  got:  {got}")),
            None => failures.push(format!("{name}: no expectation; got: {got}")),
        }
    }
    assert!(failures.is_empty(), "config errors differ:\n{}", failures.join("\n"));
    assert_eq!(expected.len(), files.len(), "every expectation has its file");
}
