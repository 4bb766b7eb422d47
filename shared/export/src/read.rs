//! Reads `kpi_hourly` files back (the KPI report is drawn from the export itself, so it
//! shows exactly what analysts query).

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use bytes::Bytes;
use jiff::Timestamp;
use omnidesk_domain::analytics::{ExportError, KpiRow};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

fn failed(e: impl std::fmt::Display) -> ExportError {
    ExportError::Encode(format!("reading kpi_hourly: {e}"))
}

fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, ExportError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| failed(format!("no column {name} of the expected type")))
}

/// The rows of one `kpi_hourly` file.
pub fn read_kpis(file: &[u8]) -> Result<Vec<KpiRow>, ExportError> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(file))
        .map_err(failed)?
        .build()
        .map_err(failed)?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.map_err(failed)?;
        let hour = column::<TimestampMicrosecondArray>(&batch, "hour")?;
        let text = |name| column::<StringArray>(&batch, name);
        let int = |name| column::<Int64Array>(&batch, name);
        let float = |name| column::<Float64Array>(&batch, name);
        let (channel, team, category) = (text("channel")?, text("team")?, text("category")?);
        let opt_text = |a: &StringArray, i: usize| (!a.is_null(i)).then(|| a.value(i).to_owned());
        let opt_int = |a: &Int64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        let opt_float = |a: &Float64Array, i: usize| (!a.is_null(i)).then(|| a.value(i));
        let ints: Vec<&Int64Array> = [
            "created",
            "solved",
            "first_replies",
            "first_reply_p50_seconds",
            "first_reply_p90_seconds",
            "resolution_p50_seconds",
            "resolution_p90_seconds",
            "sla_met",
            "fcr_solved",
            "csat_answers",
            "csat_sum",
            "csat_satisfied",
            "complaints",
        ]
        .into_iter()
        .map(int)
        .collect::<Result<_, _>>()?;
        let floats: Vec<&Float64Array> =
            ["sla_attainment", "fcr_rate", "csat_average", "csat_satisfied_rate", "complaint_rate"]
                .into_iter()
                .map(float)
                .collect::<Result<_, _>>()?;
        for i in 0..batch.num_rows() {
            rows.push(KpiRow {
                hour: Timestamp::from_microsecond(hour.value(i)).map_err(failed)?,
                channel: channel.value(i).to_owned(),
                team: opt_text(team, i),
                category: opt_text(category, i),
                created: ints[0].value(i),
                solved: ints[1].value(i),
                first_replies: ints[2].value(i),
                first_reply_p50_seconds: opt_int(ints[3], i),
                first_reply_p90_seconds: opt_int(ints[4], i),
                resolution_p50_seconds: opt_int(ints[5], i),
                resolution_p90_seconds: opt_int(ints[6], i),
                sla_met: ints[7].value(i),
                sla_attainment: opt_float(floats[0], i),
                fcr_solved: ints[8].value(i),
                fcr_rate: opt_float(floats[1], i),
                csat_answers: ints[9].value(i),
                csat_sum: ints[10].value(i),
                csat_satisfied: ints[11].value(i),
                csat_average: opt_float(floats[2], i),
                csat_satisfied_rate: opt_float(floats[3], i),
                complaints: ints[12].value(i),
                complaint_rate: opt_float(floats[4], i),
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use omnidesk_domain::analytics::{KpiRow, TableRows};

    use super::*;
    use crate::encode;

    #[test]
    fn kpi_rows_read_back_as_written() {
        let row = KpiRow {
            hour: Timestamp::from_second(1_795_424_400).unwrap(),
            channel: "chat".into(),
            team: Some("billing".into()),
            category: None,
            created: 3,
            solved: 2,
            first_replies: 2,
            first_reply_p50_seconds: Some(60),
            first_reply_p90_seconds: Some(600),
            resolution_p50_seconds: None,
            resolution_p90_seconds: Some(7),
            sla_met: 1,
            sla_attainment: Some(0.5),
            fcr_solved: 1,
            fcr_rate: Some(0.5),
            csat_answers: 1,
            csat_sum: 4,
            csat_satisfied: 1,
            csat_average: Some(4.0),
            csat_satisfied_rate: Some(1.0),
            complaints: 0,
            complaint_rate: Some(0.0),
        };
        let file = encode(&TableRows::Kpi(vec![row.clone()])).unwrap();
        assert_eq!(read_kpis(&file).unwrap(), vec![row]);
    }
}
