//! Reads an exported file back: its row count and every text value, for tests that check
//! what a file holds (no personal data) without trusting the encoder that wrote it.

use arrow_array::{Array, StringArray};
use bytes::Bytes;
use omnidesk_domain::analytics::ExportError;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// The number of rows and every string value of a Parquet file.
pub fn text_values(file: &[u8]) -> Result<(usize, Vec<String>), ExportError> {
    let failed = |e: &dyn std::fmt::Display| ExportError::Encode(format!("reading back: {e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(file))
        .map_err(|e| failed(&e))?
        .build()
        .map_err(|e| failed(&e))?;
    let (mut rows, mut values) = (0, Vec::new());
    for batch in reader {
        let batch = batch.map_err(|e| failed(&e))?;
        rows += batch.num_rows();
        for column in batch.columns() {
            if let Some(strings) = column.as_any().downcast_ref::<StringArray>() {
                values.extend(strings.iter().flatten().map(str::to_owned));
            }
        }
    }
    Ok((rows, values))
}
