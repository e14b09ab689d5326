"""A CloudWatch dashboard whose body is rendered from typed widgets."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.errors import ValidationError
from constructs_lib.monitoring.dashboard_widgets import DashboardLayout, to_json
from constructs_lib.naming import ResourceKind, check
from constructs_lib.providers import aws


def dashboard_url(region: str, dashboard_name: str) -> str:
    """The console address of a dashboard (the regional console opens it without a redirect)."""
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name={dashboard_name}"


@dataclass(frozen=True)
class DashboardProps:
    dashboard_name: str
    """Dashboard name (``Naming.name(..., kind=ResourceKind.CLOUDWATCH_DASHBOARD)``)."""
    region: str
    """Region every metric widget reads from: the stack's region."""
    layout: DashboardLayout
    """The widgets, row by row; at least one widget."""


class Dashboard(Construct):
    """``aws_cloudwatch_dashboard`` with a deterministic JSON body.

    Outputs: ``dashboard_name``, ``dashboard_arn``, ``url`` (console address),
    ``body`` (the JSON as synthesized, tokens included: tests walk it).
    """

    def __init__(self, scope: Construct, id_: str, props: DashboardProps):
        super().__init__(scope, id_)
        check(props.dashboard_name, ResourceKind.CLOUDWATCH_DASHBOARD)
        if not props.layout.widgets():
            raise ValidationError(f"Dashboard {id_}: layout must contain at least one widget, got {props.layout!r}")
        if not props.region:
            raise ValidationError(f"Dashboard {id_}: region must be non-empty, got {props.region!r}")

        self.body: str = to_json(props.layout.render(region=props.region))
        self.dashboard = aws.cloudwatch_dashboard.CloudwatchDashboard(
            self, "dashboard", dashboard_name=props.dashboard_name, dashboard_body=self.body
        )
        self.dashboard_name: str = props.dashboard_name
        self.dashboard_arn: str = self.dashboard.dashboard_arn
        self.url: str = dashboard_url(props.region, props.dashboard_name)
