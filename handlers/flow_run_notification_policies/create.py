"""POST /flow_run_notification_policies/ — 201; unknown block document is the 409 integrity text."""

from fastapi import APIRouter

from domain.parsing import parse_model
from domain.services import notification_policies
from handlers._app import Body, json_response, lambda_handler
from handlers._deps import context

TABLES = ("FlowRunNotificationPolicies", "BlockDocuments")
router = APIRouter()


@router.post("/flow_run_notification_policies/")
def create_flow_run_notification_policy(body: Body):
    policy = parse_model(notification_policies.PolicyCreate, body)
    return json_response(notification_policies.create(context(), policy), 201)


handler = lambda_handler(router)
