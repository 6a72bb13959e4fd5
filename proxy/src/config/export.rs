//! `[export]`: where ExportTableToPointInTime writes and ImportTable reads — a local
//! folder by default (S3 bucket `B` is the folder `<root>/B`, which must exist, as a
//! bucket must), or an S3-compatible endpoint (`store = "s3"`, or just `s3_endpoint`).

use std::path::PathBuf;

use daxlite_engine::buckets::S3Settings;

use super::engine::is_region_name;
use super::error::ConfigError;
use super::section::section;

section! {
    /// `[export]` as written in the file or the environment.
    pub struct RawExport { section: "export", env_prefix: "EXPORT_" }
    {
        /// The folder holding one sub-folder per "bucket" (`store = "local"`).
        root: PathBuf = PathBuf::from("./daxlite-exports");
        /// `local` (folders under `root`) or `s3` (an S3-compatible endpoint). Unset:
        /// `s3` when `s3_endpoint` is set, else `local`.
        store: String;
        /// The S3 endpoint URL (unset with `store = "s3"`: AWS S3 in `s3_region`).
        s3_endpoint: String;
        /// The region S3 requests are signed for (unset: `[engine] region`).
        s3_region: String;
        /// Path-style requests (`<endpoint>/<bucket>/<key>`); false: virtual-hosted
        /// (`<bucket>.<endpoint host>/<key>`).
        s3_path_style: bool = true;
    }
}

impl RawExport {
    /// Checks the section: the export root and, for S3, the endpoint and region
    /// (`engine_region` is the fallback region).
    pub fn validate(
        &self,
        engine_region: &str,
    ) -> Result<(PathBuf, Option<S3Settings>), ConfigError> {
        let root = self.root();
        if root.as_os_str().is_empty() {
            return Err(ConfigError::setting("export.root", "must not be empty"));
        }
        let endpoint = self
            .s3_endpoint()
            .map(|e| e.trim().to_string())
            .filter(|e| !e.is_empty());
        let store = self.store().map(|s| s.trim().to_ascii_lowercase());
        let s3 = match store.as_deref() {
            Some("local") => false,
            Some("s3") => true,
            None | Some("") => endpoint.is_some(),
            Some(other) => {
                return Err(ConfigError::setting(
                    "export.store",
                    format!("{other:?} is neither \"local\" nor \"s3\""),
                ))
            }
        };
        if !s3 {
            return Ok((root, None));
        }
        if let Some(e) = &endpoint {
            let ok = e.parse::<http::Uri>().ok().is_some_and(|u| {
                matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
            });
            if !ok {
                return Err(ConfigError::setting(
                    "export.s3_endpoint",
                    format!("{e:?} is not an http:// or https:// URL"),
                ));
            }
        }
        let region = self
            .s3_region()
            .unwrap_or_else(|| engine_region.to_string());
        if !is_region_name(&region) {
            return Err(ConfigError::setting(
                "export.s3_region",
                format!("{region:?} is not a region name"),
            ));
        }
        Ok((
            root,
            Some(S3Settings {
                endpoint,
                region,
                path_style: self.s3_path_style(),
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(store: Option<&str>, endpoint: Option<&str>) -> RawExport {
        RawExport {
            store: store.map(str::to_string),
            s3_endpoint: endpoint.map(str::to_string),
            ..RawExport::defaults()
        }
    }

    #[test]
    fn the_local_folder_is_the_default() {
        let (root, s3) = RawExport::defaults().validate("us-east-1").unwrap();
        assert_eq!(root, PathBuf::from("./daxlite-exports"));
        assert_eq!(s3, None);
    }

    #[test]
    fn an_endpoint_selects_s3() {
        let (_, s3) = raw(None, Some("http://127.0.0.1:9000"))
            .validate("eu-west-1")
            .unwrap();
        assert_eq!(
            s3,
            Some(S3Settings {
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "eu-west-1".into(),
                path_style: true,
            })
        );
        let (_, s3) = raw(Some("s3"), None).validate("eu-west-1").unwrap();
        assert_eq!(s3.unwrap().endpoint, None);
        let (_, s3) = raw(Some("local"), Some("http://127.0.0.1:9000"))
            .validate("eu-west-1")
            .unwrap();
        assert_eq!(s3, None);
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(raw(Some("ftp"), None).validate("us-east-1").is_err());
        assert!(raw(None, Some("localhost:9000"))
            .validate("us-east-1")
            .is_err());
        let mut r = raw(Some("s3"), None);
        r.s3_region = Some("bad region".into());
        assert!(r.validate("us-east-1").is_err());
    }
}
