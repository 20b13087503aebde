-- HR gold, from the HRIS's silver employees: headcount per department.
--
-- The employees table is restricted; this aggregate carries no personal data and is classified
-- general, so other domains may read it. A Lakeflow SQL pipeline file: it runs unchanged on
-- Databricks and on the local engine. The pipeline configuration's lakehouse.env says which
-- silver catalog to read, and lakehouse.schemaPrefix a developer's own schemas in a development
-- deployment (empty otherwise).

CREATE OR REFRESH MATERIALIZED VIEW headcount_by_department
COMMENT 'Current employees per department.'
TBLPROPERTIES ('lakehouse.classification' = 'general')
AS SELECT department, count(*) AS headcount
FROM ${lakehouse.env}_silver.${lakehouse.schemaPrefix}hris.employees
WHERE __END_AT IS NULL
GROUP BY department;
