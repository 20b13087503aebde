"""Each domain's cost alert, a resource of its prod target: a SQL alert over the billing system
tables that notifies the domain's owner when the domain's list-price cost of the last 30 days,
across every workspace and environment (the resources' ``domain`` and ``cost_centre`` tags),
goes over the limit its registry entry sets (``domain.yml``: ``monthly_cost_limit``), with the
small serverless SQL warehouse it runs on.

They are YAML in the generated targets file, as the pinned databricks-bundles has no types for
alerts or SQL warehouses.
"""

from __future__ import annotations

from typing import Any

from lakehouse.platform.registry import DomainSpec
from lakehouse.sql_quoting import quote_string

COST_COLUMN = "cost_30_days"


def cost_query(spec: DomainSpec) -> str:
    """The domain's list-price cost of the last 30 days, per cost centre.

    Example:
        >>> print(cost_query(sales))  # doctest: +SKIP
        SELECT u.custom_tags['cost_centre'] AS cost_centre, ...
    """
    return (
        "SELECT u.custom_tags['domain'] AS domain, u.custom_tags['cost_centre'] AS cost_centre, "
        f"sum(u.usage_quantity * p.pricing.default) AS {COST_COLUMN} "
        "FROM system.billing.usage AS u JOIN system.billing.list_prices AS p "
        "ON u.sku_name = p.sku_name AND u.usage_unit = p.usage_unit "
        "AND u.usage_start_time >= p.price_start_time "
        "AND (p.price_end_time IS NULL OR u.usage_start_time < p.price_end_time) "
        f"WHERE u.custom_tags['domain'] = {quote_string(spec.name)} "
        "AND u.usage_date >= date_sub(current_date(), 30) "
        "GROUP BY ALL"
    )


def cost_alert_resources(spec: DomainSpec) -> dict[str, Any]:
    """The ``sql_warehouses`` and ``alerts`` of a domain's prod target; none without a
    ``monthly_cost_limit``.

    Example:
        >>> cost_alert_resources(sales)["alerts"]["sales_cost"]["evaluation"]["threshold"]  # doctest: +SKIP
        {'value': {'double_value': 5000.0}}
    """
    if spec.monthly_cost_limit is None:
        return {}
    warehouse = f"{spec.name}_monitoring"
    return {
        "sql_warehouses": {
            warehouse: {
                "name": warehouse,
                "cluster_size": "2X-Small",
                "warehouse_type": "PRO",
                "enable_serverless_compute": True,
                "auto_stop_mins": 5,
                "max_num_clusters": 1,
            }
        },
        "alerts": {
            f"{spec.name}_cost": {
                "display_name": f"{spec.name}: cost of the last 30 days over {spec.monthly_cost_limit:g}",
                "warehouse_id": f"${{resources.sql_warehouses.{warehouse}.id}}",
                "query_text": cost_query(spec),
                "evaluation": {
                    "source": {"name": COST_COLUMN},
                    "comparison_operator": "GREATER_THAN",
                    "threshold": {"value": {"double_value": float(spec.monthly_cost_limit)}},
                    "empty_result_state": "OK",
                    "notification": {
                        "subscriptions": [{"user_email": spec.owner}],
                        "notify_on_ok": False,
                    },
                },
                "schedule": {"quartz_cron_schedule": "0 0 7 * * ?", "timezone_id": "UTC"},
            }
        },
    }
