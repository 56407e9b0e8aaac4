//! Reading JSON and TOML config text into one value model, with exact error
//! positions.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};

/// The text formats a config file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (`.json`).
    Json,
    /// TOML (`.toml`).
    Toml,
}

impl Format {
    /// The format of a file, by its extension.
    pub fn of(path: &Path) -> Result<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(Format::Json),
            Some("toml") => Ok(Format::Toml),
            _ => Err(Error::ConfigFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Toml => "toml",
        }
    }

    /// Parses `text`; `origin` names the source in errors.
    pub fn parse(self, text: &str, origin: &Path) -> Result<Value> {
        match self {
            Format::Json => serde_json::from_str(text).map_err(|e| Error::ConfigParse {
                path: origin.to_path_buf(),
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            }),
            Format::Toml => toml::from_str(text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map(|span| line_and_column(text, span.start))
                    .unwrap_or((1, 1));
                Error::ConfigParse {
                    path: origin.to_path_buf(),
                    line,
                    column,
                    message: e.message().trim().to_owned(),
                }
            }),
        }
    }
}

/// Reads and parses a config file.
pub fn read(path: &Path) -> Result<Value> {
    let format = Format::of(path)?;
    let text = std::fs::read_to_string(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::ConfigNotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::ConfigRead {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    format.parse(&text, path)
}

/// The 1-based line and column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A file `<stem>-<branch>.<ext>` next to `path`, for each supported extension,
/// TOML first.
pub fn branch_candidates(path: &Path, branch: &str) -> Vec<PathBuf> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("config");
    let dir = path.parent().unwrap_or(Path::new(""));
    [Format::Toml, Format::Json]
        .iter()
        .map(|f| dir.join(format!("{stem}-{branch}.{}", f.extension())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_carry_line_and_column() {
        let err = Format::Toml
            .parse("a = 1\nb = = 2\n", Path::new("x.toml"))
            .unwrap_err();
        match err {
            Error::ConfigParse { line, column, .. } => {
                assert_eq!(line, 2);
                assert!(column >= 4, "column {column}");
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn toml_keeps_document_order() {
        let v = Format::Toml
            .parse("z = 1\na = 2\nm = 3\n", Path::new("x.toml"))
            .unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn branch_files_sit_next_to_the_base_file() {
        let c = branch_candidates(Path::new("/app/config.json"), "dev");
        assert_eq!(
            c,
            [
                PathBuf::from("/app/config-dev.toml"),
                PathBuf::from("/app/config-dev.json")
            ]
        );
    }
}
