//! The analytics export's files: the rollup's rows encoded as Parquet ([`encode`]) and put
//! where analysts read them — an S3 bucket through any [`omnidesk_domain::ports::BlobStore`]
//! ([`BlobSink`]), or a local folder ([`FolderSink`]). Its own crate, so parquet and arrow
//! are linked by the analytics-rollup function, the local desk and the tests, and nothing
//! else.

mod encode;
mod inspect;
mod read;
mod sink;

pub use encode::{CREATED_BY, encode};
pub use inspect::text_values;
pub use read::read_kpis;
pub use sink::{BlobSink, FolderSink};
