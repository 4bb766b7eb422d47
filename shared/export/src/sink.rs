//! Where encoded windows go. Both replace a window's file whole and remove it when the
//! window has no rows; neither ever leaves half a file under the final name (S3 puts are
//! atomic; the folder writes a temporary file and renames it). Both read `kpi_hourly` files
//! back for the spike baselines.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use omnidesk_domain::analytics::alerts::KpiHistory;
use omnidesk_domain::analytics::{ExportError, ExportSink, KpiRow, Table, TableRows, Window};
use omnidesk_domain::ports::BlobStore;

use crate::{encode, read_kpis};

fn kpi_window(hour: Timestamp) -> Window {
    Window { table: Table::KpiHourly, hour }
}

const CONTENT_TYPE: &str = "application/vnd.apache.parquet";

/// The export in a blob store (the S3 export bucket on AWS), under `prefix`.
pub struct BlobSink {
    blobs: Arc<dyn BlobStore>,
    prefix: String,
}

impl BlobSink {
    /// `prefix` is empty or ends with `/`, e.g. `analytics/`.
    pub fn new(blobs: Arc<dyn BlobStore>, prefix: impl Into<String>) -> Self {
        Self { blobs, prefix: prefix.into() }
    }
}

#[async_trait]
impl ExportSink for BlobSink {
    async fn replace(&self, window: &Window, rows: &TableRows) -> Result<(), ExportError> {
        let key = format!("{}{}", self.prefix, window.path());
        let result = if rows.is_empty() {
            self.blobs.delete(&key).await
        } else {
            self.blobs.put(&key, encode(rows)?, CONTENT_TYPE).await
        };
        result.map_err(|e| ExportError::Unavailable(e.to_string()))
    }
}

/// The export in a local folder (the local desk's `--export DIR`), read by DuckDB as it is.
pub struct FolderSink {
    root: PathBuf,
}

impl FolderSink {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &std::path::Path {
        &self.root
    }
}

#[async_trait]
impl ExportSink for FolderSink {
    async fn replace(&self, window: &Window, rows: &TableRows) -> Result<(), ExportError> {
        let path = self.root.join(window.path());
        let failed = |e: std::io::Error| ExportError::Unavailable(format!("{}: {e}", path.display()));
        if rows.is_empty() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(failed(e)),
                _ => Ok(()),
            };
        }
        let bytes = encode(rows)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        // Readers glob `*.parquet`: the temporary name is not one of theirs.
        let partial = path.with_extension("parquet.partial");
        std::fs::write(&partial, bytes).map_err(failed)?;
        std::fs::rename(&partial, &path).map_err(failed)
    }
}

#[async_trait]
impl KpiHistory for BlobSink {
    async fn kpi_rows(&self, hour: Timestamp) -> Result<Vec<KpiRow>, ExportError> {
        let key = format!("{}{}", self.prefix, kpi_window(hour).path());
        match self.blobs.get(&key).await {
            Ok(Some(bytes)) => read_kpis(&bytes),
            Ok(None) => Ok(Vec::new()),
            Err(e) => Err(ExportError::Unavailable(e.to_string())),
        }
    }
}

#[async_trait]
impl KpiHistory for FolderSink {
    async fn kpi_rows(&self, hour: Timestamp) -> Result<Vec<KpiRow>, ExportError> {
        let path = self.root.join(kpi_window(hour).path());
        match std::fs::read(&path) {
            Ok(bytes) => read_kpis(&bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(ExportError::Unavailable(format!("{}: {e}", path.display()))),
        }
    }
}
