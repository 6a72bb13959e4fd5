//! `[export]`: where ExportTableToPointInTime writes (S3 bucket `B` is the folder
//! `<root>/B`, which must exist, as a bucket must).

use std::path::PathBuf;

use super::error::ConfigError;
use super::section::section;

section! {
    /// `[export]` as written in the file or the environment.
    pub struct RawExport { section: "export", env_prefix: "EXPORT_" }
    {
        /// The folder holding one sub-folder per "bucket".
        root: PathBuf = PathBuf::from("./daxlite-exports");
    }
}

impl RawExport {
    /// Checks the section: the export root.
    pub fn validate(&self) -> Result<PathBuf, ConfigError> {
        let root = self.root();
        if root.as_os_str().is_empty() {
            return Err(ConfigError::setting("export.root", "must not be empty"));
        }
        Ok(root)
    }
}
