//! Rows → one Parquet file (snappy, one row group per window). Timestamps are UTC instants
//! stored as microseconds without a zone, which Athena and DuckDB both read as `timestamp`.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use jiff::Timestamp;
use omnidesk_domain::analytics::{EventRow, ExportError, KpiRow, TableRows, TicketRow};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

/// Written into every file instead of the library's version string, so a dependency update
/// alone does not change the bytes of a rerun.
pub const CREATED_BY: &str = "omnidesk analytics-rollup";

/// The Parquet file of one window's rows.
pub fn encode(rows: &TableRows) -> Result<Vec<u8>, ExportError> {
    let batch = match rows {
        TableRows::Events(rows) => events(rows),
        TableRows::Tickets(rows) => tickets(rows),
        TableRows::Kpi(rows) => kpis(rows),
    }
    .map_err(|e| ExportError::Encode(e.to_string()))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(CREATED_BY.to_owned())
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties))
        .map_err(|e| ExportError::Encode(e.to_string()))?;
    writer.write(&batch).map_err(|e| ExportError::Encode(e.to_string()))?;
    writer.into_inner().map_err(|e| ExportError::Encode(e.to_string()))
}

fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

fn field(name: &str, data_type: DataType, nullable: bool) -> Field {
    Field::new(name, data_type, nullable)
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn batch(columns: Vec<(Field, ArrayRef)>) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = columns.into_iter().unzip();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

fn ints<T>(rows: &[T], get: impl Fn(&T) -> i64) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(rows.iter().map(get)))
}

fn opt_ints<T>(rows: &[T], get: impl Fn(&T) -> Option<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(rows.iter().map(get).collect::<Vec<_>>()))
}

fn strings<T>(rows: &[T], get: impl Fn(&T) -> Option<&str>) -> ArrayRef {
    Arc::new(StringArray::from(rows.iter().map(get).collect::<Vec<_>>()))
}

fn times<T>(rows: &[T], get: impl Fn(&T) -> Option<Timestamp>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(rows.iter().map(|r| get(r).map(micros)).collect::<Vec<_>>()))
}

fn floats<T>(rows: &[T], get: impl Fn(&T) -> Option<f64>) -> ArrayRef {
    Arc::new(Float64Array::from(rows.iter().map(get).collect::<Vec<_>>()))
}

fn bools<T>(rows: &[T], get: impl Fn(&T) -> Option<bool>) -> ArrayRef {
    Arc::new(BooleanArray::from(rows.iter().map(get).collect::<Vec<_>>()))
}

fn events(rows: &[EventRow]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    batch(vec![
        (field("ticket", DataType::Int64, false), ints(rows, |r| r.ticket)),
        (field("seq", DataType::Int64, false), ints(rows, |r| r.seq)),
        (field("at", timestamp(), false), times(rows, |r| Some(r.at))),
        (field("event", DataType::Utf8, false), strings(rows, |r| Some(&r.event))),
        (field("actor_kind", DataType::Utf8, false), strings(rows, |r| Some(&r.actor_kind))),
        (field("actor", DataType::Utf8, true), strings(rows, |r| r.actor.as_deref())),
        (field("details", DataType::Utf8, false), strings(rows, |r| Some(&r.details))),
    ])
}

fn tickets(rows: &[TicketRow]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    batch(vec![
        (field("ticket", DataType::Int64, false), ints(rows, |r| r.ticket)),
        (field("channel", DataType::Utf8, false), strings(rows, |r| Some(&r.channel))),
        (field("team", DataType::Utf8, true), strings(rows, |r| r.team.as_deref())),
        (field("agent", DataType::Utf8, true), strings(rows, |r| r.agent.as_deref())),
        (field("category", DataType::Utf8, true), strings(rows, |r| r.category.as_deref())),
        (field("priority", DataType::Utf8, false), strings(rows, |r| Some(&r.priority))),
        (field("tier", DataType::Utf8, true), strings(rows, |r| r.tier.as_deref())),
        (field("status", DataType::Utf8, false), strings(rows, |r| Some(&r.status))),
        (field("requester", DataType::Utf8, true), strings(rows, |r| r.requester.as_deref())),
        (field("created_at", timestamp(), false), times(rows, |r| Some(r.created_at))),
        (field("first_reply_at", timestamp(), true), times(rows, |r| r.first_reply_at)),
        (field("solved_at", timestamp(), true), times(rows, |r| r.solved_at)),
        (field("updated_at", timestamp(), false), times(rows, |r| Some(r.updated_at))),
        (field("first_reply_seconds", DataType::Int64, true), opt_ints(rows, |r| r.first_reply_seconds)),
        (field("resolution_seconds", DataType::Int64, true), opt_ints(rows, |r| r.resolution_seconds)),
        (field("sla_breached", DataType::Boolean, false), bools(rows, |r| Some(r.sla_breached))),
        (field("sla_met", DataType::Boolean, true), bools(rows, |r| r.sla_met)),
        (field("reopen_count", DataType::Int64, false), ints(rows, |r| r.reopen_count)),
        (field("replies_until_solved", DataType::Int64, true), opt_ints(rows, |r| r.replies_until_solved)),
        (
            field("first_contact_resolution", DataType::Boolean, true),
            bools(rows, |r| r.first_contact_resolution),
        ),
        (field("csat", DataType::Int64, true), opt_ints(rows, |r| r.csat)),
        (field("complaint", DataType::Boolean, false), bools(rows, |r| Some(r.complaint))),
    ])
}

fn kpis(rows: &[KpiRow]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    batch(vec![
        (field("hour", timestamp(), false), times(rows, |r| Some(r.hour))),
        (field("channel", DataType::Utf8, false), strings(rows, |r| Some(&r.channel))),
        (field("team", DataType::Utf8, true), strings(rows, |r| r.team.as_deref())),
        (field("category", DataType::Utf8, true), strings(rows, |r| r.category.as_deref())),
        (field("created", DataType::Int64, false), ints(rows, |r| r.created)),
        (field("solved", DataType::Int64, false), ints(rows, |r| r.solved)),
        (field("first_replies", DataType::Int64, false), ints(rows, |r| r.first_replies)),
        (
            field("first_reply_p50_seconds", DataType::Int64, true),
            opt_ints(rows, |r| r.first_reply_p50_seconds),
        ),
        (
            field("first_reply_p90_seconds", DataType::Int64, true),
            opt_ints(rows, |r| r.first_reply_p90_seconds),
        ),
        (
            field("resolution_p50_seconds", DataType::Int64, true),
            opt_ints(rows, |r| r.resolution_p50_seconds),
        ),
        (
            field("resolution_p90_seconds", DataType::Int64, true),
            opt_ints(rows, |r| r.resolution_p90_seconds),
        ),
        (field("sla_met", DataType::Int64, false), ints(rows, |r| r.sla_met)),
        (field("sla_attainment", DataType::Float64, true), floats(rows, |r| r.sla_attainment)),
        (field("fcr_solved", DataType::Int64, false), ints(rows, |r| r.fcr_solved)),
        (field("fcr_rate", DataType::Float64, true), floats(rows, |r| r.fcr_rate)),
        (field("csat_answers", DataType::Int64, false), ints(rows, |r| r.csat_answers)),
        (field("csat_sum", DataType::Int64, false), ints(rows, |r| r.csat_sum)),
        (field("csat_satisfied", DataType::Int64, false), ints(rows, |r| r.csat_satisfied)),
        (field("csat_average", DataType::Float64, true), floats(rows, |r| r.csat_average)),
        (field("csat_satisfied_rate", DataType::Float64, true), floats(rows, |r| r.csat_satisfied_rate)),
        (field("complaints", DataType::Int64, false), ints(rows, |r| r.complaints)),
        (field("complaint_rate", DataType::Float64, true), floats(rows, |r| r.complaint_rate)),
    ])
}
