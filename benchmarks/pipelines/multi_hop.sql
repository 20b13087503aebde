-- The benchmark pipeline in SQL, hop for hop the Python one read with Auto Loader
-- (benchmark.reader = cloudFiles): JSON files -> bronze (three expectations) -> silver -> gold.

CREATE OR REFRESH STREAMING TABLE bronze_events (
  CONSTRAINT valid_id EXPECT (event_id IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_amount EXPECT (amount > 0),
  CONSTRAINT known_country EXPECT (country IS NOT NULL)
)
AS SELECT * FROM STREAM read_files(
  '${benchmark.source}',
  format => 'json',
  schema => 'event_id BIGINT, customer_id BIGINT, amount DOUBLE, country STRING, event_ts TIMESTAMP'
);

CREATE OR REFRESH STREAMING TABLE silver_events
AS SELECT *, CAST(amount * 100 AS BIGINT) AS amount_cents, to_date(event_ts) AS event_date
FROM STREAM(bronze_events);

CREATE OR REFRESH MATERIALIZED VIEW gold_daily_country
AS SELECT event_date, country, sum(amount_cents) AS amount_cents, count(*) AS events
FROM silver_events
GROUP BY event_date, country;
