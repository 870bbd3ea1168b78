"""PATCH /flow_runs/{id} job variables against the run's work pool template (spec §7.4 step 5)."""

from __future__ import annotations

from collections.abc import Callable

from domain.context import Ctx


def validator_for(ctx: Ctx) -> Callable[[dict, dict], None]:
    def validate(run: dict, job_variables: dict) -> None:
        pool_id = run.get("_wp_id") if run.get("work_queue_id") else None
        if not pool_id:
            return
        pool = ctx.stores.work_pools.get(pool_id)
        if pool is None:
            return
        from domain.services.deployments import _load_block_data, _pool_errors
        from domain.validation import validate_job_variables

        _pool_errors(lambda: validate_job_variables(
            template=pool.get("base_job_template"), deployment_vars=None, run_vars=job_variables,
            mode="flow_run", load_block_data=_load_block_data(ctx)), "Error updating flow run")

    return validate
