//! Reading a config file, with errors located at file, line, column and field.
use super::Config;
use std::fmt;
use std::path::Path;

/// The built-in default: the lab of `scripts/demo.sh`.
pub const DEFAULT_CONFIG: &str = include_str!("default.toml");

/// A config problem, located. Display: `FILE:LINE:COLUMN: FIELD: MESSAGE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {field}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub field: String,
    pub message: String,
}

/// A path to a field: `port[1].address`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(pub Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl FieldPath {
    pub fn key(mut self, k: &str) -> FieldPath {
        self.0.push(Seg::Key(k.to_owned()));
        self
    }

    pub fn index(mut self, i: usize) -> FieldPath {
        self.0.push(Seg::Index(i));
        self
    }
}

/// The path `table[index].field`.
pub fn at(table: &str, index: usize, field: &str) -> FieldPath {
    FieldPath::default().key(table).index(index).key(field)
}

/// The path `table.field`.
pub fn at_key(table: &str, field: &str) -> FieldPath {
    FieldPath::default().key(table).key(field)
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Finds where a field stands in the source text.
pub struct Locator<'a> {
    file: String,
    text: &'a str,
    doc: Option<toml_edit::ImDocument<&'a str>>,
}

impl<'a> Locator<'a> {
    pub fn new(file: &str, text: &'a str) -> Locator<'a> {
        Locator { file: file.to_owned(), text, doc: toml_edit::ImDocument::parse(text).ok() }
    }

    /// An error at `path`: at the field if it is written in the file, else at the deepest
    /// table on the way to it.
    pub fn error(&self, path: &FieldPath, message: impl Into<String>) -> ConfigError {
        let offset = self.span_of(path).unwrap_or(0);
        self.error_at(offset, path.to_string(), message.into())
    }

    fn error_at(&self, offset: usize, field: String, message: String) -> ConfigError {
        let (line, column) = line_col(self.text, offset);
        ConfigError { file: self.file.clone(), line, column, field, message }
    }

    fn span_of(&self, path: &FieldPath) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        let mut cur = Node::Table(doc.as_table());
        let mut best = None;
        for seg in &path.0 {
            let next = match (seg, cur) {
                (Seg::Key(k), node) => {
                    let table = node.table_like()?;
                    let (key, item) = table.get_key_value(k)?;
                    // Point at the value when there is one: that is what is wrong.
                    let value = item.as_value().and_then(|v| v.span());
                    best = value.or(key.span()).map(|s| s.start).or(best);
                    Node::Item(item)
                }
                (Seg::Index(i), Node::Item(toml_edit::Item::ArrayOfTables(a))) => {
                    let t = a.get(*i)?;
                    best = t.span().map(|s| s.start).or(best);
                    Node::Table(t)
                }
                (Seg::Index(i), Node::Item(item)) => {
                    let v = item.as_array()?.get(*i)?;
                    best = v.span().map(|s| s.start).or(best);
                    return best;
                }
                (Seg::Index(_), Node::Table(_)) => return best,
            };
            cur = next;
        }
        best
    }
}

#[derive(Clone, Copy)]
enum Node<'a> {
    Item(&'a toml_edit::Item),
    Table(&'a toml_edit::Table),
}

impl<'a> Node<'a> {
    fn table_like(self) -> Option<&'a dyn toml_edit::TableLike> {
        match self {
            Node::Item(i) => i.as_table_like(),
            Node::Table(t) => Some(t),
        }
    }
}

/// For a syntax error: the key written on the error's line, if the line is `key = ...`.
fn key_on_line(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |p| p + 1);
    let line = text[start..].lines().next().unwrap_or("");
    match line.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && !key.contains('[') => format!("{} (syntax)", key.trim()),
        _ => "(syntax)".into(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |p| p + 1) + 1;
    (line, column)
}

/// Reads and parses a config file.
pub fn load_file(path: &Path) -> Result<(Config, String), ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        column: 0,
        field: "(file)".into(),
        message: format!("cannot read: {e}"),
    })?;
    let cfg = load_str(&text, &file)?;
    Ok((cfg, text))
}

/// Parses config text; `file` names it in errors.
pub fn load_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = FieldPath::default();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => path.0.push(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => path.0.push(Seg::Key(key.clone())),
                _ => {}
            }
        }
        let inner = e.into_inner();
        let message = inner.message().trim().to_owned();
        if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
            path.0.push(Seg::Key(missing.to_owned()));
        }
        let loc = Locator::new(file, text);
        match inner.span() {
            Some(span) if !path.0.is_empty() => loc.error_at(span.start, path.to_string(), message),
            Some(span) => loc.error_at(span.start, key_on_line(text, span.start), message),
            None => loc.error(&path, message),
        }
    })
}
