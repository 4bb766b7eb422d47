-- omnidesk KPI queries. The same text runs on Athena (the Glue tables of template.yaml, in
-- the analytics workgroup) and on DuckDB over a local export
-- (scripts/duckdb-queries.py EXPORT_DIR infra/athena/queries.sql), so only SQL both engines
-- read is used: no engine-specific percentile functions (kpi_hourly holds exact p50/p90 per
-- hour), intervals as INTERVAL 'n' DAY. Each query starts with a `-- name:` line; times are
-- business seconds on the desk's SLA calendars; instants are UTC.

-- name: response_speed
-- How fast we answer: tickets with a first public reply and their average first-reply time.
SELECT channel,
       count(first_reply_seconds) AS answered,
       avg(first_reply_seconds) AS avg_first_reply_seconds
FROM tickets
GROUP BY channel
ORDER BY channel;

-- name: resolution_rate
-- How much we resolve, how fast, and how much at the first contact (at most one reply,
-- never reopened), over the tickets solved now.
SELECT channel,
       count(*) AS created,
       sum(CASE WHEN status IN ('solved', 'closed') THEN 1 ELSE 0 END) AS solved,
       avg(CASE WHEN status IN ('solved', 'closed') THEN resolution_seconds END) AS avg_resolution_seconds,
       avg(CASE WHEN status IN ('solved', 'closed')
                THEN CASE WHEN first_contact_resolution THEN 1.0 ELSE 0.0 END END) AS first_contact_rate
FROM tickets
GROUP BY channel
ORDER BY channel;

-- name: satisfaction
-- Are customers satisfied: answered surveys (the latest answer per ticket), average rating
-- and the share of 4s and 5s.
SELECT channel,
       count(csat) AS answers,
       avg(csat) AS avg_csat,
       avg(CASE WHEN csat >= 4 THEN 1.0 WHEN csat IS NOT NULL THEN 0.0 END) AS satisfied_share
FROM tickets
GROUP BY channel
ORDER BY channel;

-- name: complaint_rate
-- How many complaints, as a share of tickets created.
SELECT channel,
       sum(CASE WHEN complaint THEN 1 ELSE 0 END) AS complaints,
       avg(CASE WHEN complaint THEN 1.0 ELSE 0.0 END) AS complaint_rate
FROM tickets
GROUP BY channel
ORDER BY channel;

-- name: sla_attainment
-- Share of solved tickets that never breached an SLA target, per team.
SELECT coalesce(team, '(none)') AS team,
       count(sla_met) AS solved,
       avg(CASE WHEN sla_met THEN 1.0 ELSE 0.0 END) AS attainment
FROM tickets
WHERE sla_met IS NOT NULL
GROUP BY coalesce(team, '(none)')
ORDER BY team;

-- name: top_categories_this_week
-- Which problems dominate: categories of the tickets created in the last 7 days of data.
SELECT coalesce(category, '(none)') AS category,
       count(*) AS tickets
FROM tickets
WHERE dt > (SELECT max(dt) FROM tickets) - INTERVAL '7' DAY
GROUP BY coalesce(category, '(none)')
ORDER BY tickets DESC, category
LIMIT 5;

-- name: volume_by_day
-- Tickets created and solves per day and channel, from the hourly KPIs.
SELECT CAST(dt AS varchar) AS day,
       channel,
       sum(created) AS created,
       sum(solved) AS solved
FROM kpi_hourly
GROUP BY dt, channel
ORDER BY day, channel;
