-- The analytics tables as Athena DDL: what template.yaml creates as Glue tables, for another
-- account or catalog. Replace EXPORT_BUCKET with the stack's ExportBucketName output and run
-- each statement in the analytics database. Partition projection computes the `dt`
-- partitions from the range, so a new day needs no crawler and no MSCK REPAIR TABLE.
-- Timestamps are UTC instants. Column names never repeat the partition keys (`table`, `dt`).

CREATE EXTERNAL TABLE IF NOT EXISTS ticket_events (
  ticket bigint,
  seq bigint,
  at timestamp,
  event string,
  actor_kind string,
  actor string,
  details string
)
PARTITIONED BY (dt date)
STORED AS PARQUET
LOCATION 's3://EXPORT_BUCKET/analytics/table=ticket_events/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://EXPORT_BUCKET/analytics/table=ticket_events/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS tickets (
  ticket bigint,
  -- chat, email, phone, wechat, messenger, instagram, whatsapp, forum (social: a ticket
  -- stored before channels named their platform)
  channel string,
  team string,
  agent string,
  category string,
  priority string,
  tier string,
  status string,
  requester string,
  created_at timestamp,
  first_reply_at timestamp,
  solved_at timestamp,
  updated_at timestamp,
  first_reply_seconds bigint,
  resolution_seconds bigint,
  sla_breached boolean,
  sla_met boolean,
  reopen_count bigint,
  replies_until_solved bigint,
  first_contact_resolution boolean,
  csat bigint,
  complaint boolean
)
PARTITIONED BY (dt date)
STORED AS PARQUET
LOCATION 's3://EXPORT_BUCKET/analytics/table=tickets/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://EXPORT_BUCKET/analytics/table=tickets/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS kpi_hourly (
  hour timestamp,
  -- as tickets.channel
  channel string,
  team string,
  category string,
  created bigint,
  solved bigint,
  first_replies bigint,
  first_reply_p50_seconds bigint,
  first_reply_p90_seconds bigint,
  resolution_p50_seconds bigint,
  resolution_p90_seconds bigint,
  sla_met bigint,
  sla_attainment double,
  fcr_solved bigint,
  fcr_rate double,
  csat_answers bigint,
  csat_sum bigint,
  csat_satisfied bigint,
  csat_average double,
  csat_satisfied_rate double,
  complaints bigint,
  complaint_rate double
)
PARTITIONED BY (dt date)
STORED AS PARQUET
LOCATION 's3://EXPORT_BUCKET/analytics/table=kpi_hourly/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2024-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://EXPORT_BUCKET/analytics/table=kpi_hourly/dt=${dt}/'
);
