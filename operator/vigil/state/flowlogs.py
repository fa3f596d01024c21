"""VPCs and their flow logs in one account and region, as observed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class State(BaseModel):
    model_config = ConfigDict(frozen=True)


class FlowLogSettings(State):
    """What a flow log is: AWS cannot change any of it after creation, so a wrong one is replaced."""

    traffic_type: str
    log_destination_type: str  # s3 | cloud-watch-logs | kinesis-data-firehose
    log_destination: str  # the ARN; for CloudWatch Logs, the log group's name when AWS gives no ARN
    log_format: str
    max_aggregation_interval: int


class FlowLog(State):
    flow_log_id: str
    resource_id: str
    settings: FlowLogSettings
    tags: dict[str, str] = Field(default_factory=dict)


class Vpc(State):
    vpc_id: str
    tags: dict[str, str] = Field(default_factory=dict)
    is_default: bool = False


class NetworkState(State):
    """The selected VPCs of one account x region, and the flow logs attached to them."""

    vpcs: tuple[Vpc, ...] = ()
    flow_logs: tuple[FlowLog, ...] = ()

    def flow_logs_of(self, vpc_id: str) -> tuple[FlowLog, ...]:
        return tuple(f for f in self.flow_logs if f.resource_id == vpc_id)
