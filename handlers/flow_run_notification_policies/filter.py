"""POST /flow_run_notification_policies/filter — by id, ``is_active.eq_``, offset/limit."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import notification_policies
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunNotificationPolicies",)
READ_ONLY = True
router = APIRouter()


@router.post("/flow_run_notification_policies/filter")
def read_flow_run_notification_policies(body: Body):
    q = parse_model(notification_policies.PolicyQuery, body)
    return json_response(notification_policies.filter_policies(context(), q))


handler = lambda_handler(router)
