//! Config files in a temporary folder, removed with it.

use std::path::{Path, PathBuf};

/// A temporary folder to write config (and other) files into; deleted when dropped.
///
/// ```
/// let dir = superhero_testkit::TempDir::new();
/// let file = dir.write("site/config.toml", "[http.server]\nlisten = \"127.0.0.1:0\"\n");
/// assert!(file.ends_with("site/config.toml") && file.is_file());
/// ```
pub struct TempDir(tempfile::TempDir);

impl TempDir {
    /// A new empty folder.
    pub fn new() -> TempDir {
        TempDir(tempfile::tempdir().expect("a temporary folder"))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `text` at `relative`, creating folders, and returns the file's path.
    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        path
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}
