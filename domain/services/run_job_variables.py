"""PATCH /flow_runs/{id} job variables against the deployment's work pool template (spec §7.4,
flow-run mode: pool defaults, then the deployment's job variables, then the run's)."""

from __future__ import annotations

from collections.abc import Callable

from domain.context import Ctx


def validator_for(ctx: Ctx) -> Callable[[dict, dict, dict], None]:
    def validate(run: dict, deployment: dict, job_variables: dict) -> None:
        pool_name = deployment.get("_wp_name") if deployment.get("work_queue_id") else None
        if not pool_name:
            return
        from domain.services import work_pools
        from domain.services.deployments import _load_block_data, _pool_errors
        from domain.validation import validate_job_variables

        try:
            pool = work_pools.read_pool_by_name(ctx, pool_name)
        except Exception:  # noqa: BLE001 - a deleted pool leaves nothing to validate against
            return
        if pool is None:
            return
        _pool_errors(lambda: validate_job_variables(
            template=pool.get("base_job_template"), deployment_vars=deployment.get("infra_overrides") or {},
            run_vars=job_variables, mode="flow_run", load_block_data=_load_block_data(ctx)), "Error updating flow run")

    return validate
