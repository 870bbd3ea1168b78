"""``flowplane ui publish`` and the UI resources of template.yaml (no AWS: recording fakes)."""

from __future__ import annotations

import json

import pytest

from infra import sam_ui
from infra.ui_publish import PublishError, publish

OUTPUTS = {"UiBucketName": "ui-bucket", "UiDistributionId": "E123", "UiUrl": "https://d1.cloudfront.net/"}


class FakeCfn:
    def __init__(self, outputs):
        self.outputs = outputs

    def describe_stacks(self, StackName):
        return {"Stacks": [{"StackName": StackName,
                            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}]}


class FakeS3:
    def __init__(self):
        self.objects = {}

    def put_object(self, Bucket, Key, Body, ContentType, CacheControl):
        self.objects[(Bucket, Key)] = (Body, ContentType, CacheControl)


class FakeCloudFront:
    def __init__(self):
        self.calls = []

    def create_invalidation(self, DistributionId, InvalidationBatch):
        self.calls.append((DistributionId, InvalidationBatch["Paths"]))
        return {"Invalidation": {"Id": "I1"}}


@pytest.fixture
def build(tmp_path):
    root = tmp_path / "build"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<html></html>")
    (root / "assets" / "index-abc.js").write_text("x")
    (root / "assets" / "index-abc.css").write_text("y")
    (root / "UI_SERVE_BASE").write_text("2.20.26:/")
    return root


class TestUiPublish:
    def test_uploads_the_files_and_ui_settings_then_invalidates(self, build):
        s3, cf = FakeS3(), FakeCloudFront()
        result = publish("my-stack", cloudformation=FakeCfn(OUTPUTS), s3=s3, cloudfront=cf, build=build)
        assert result == {"url": "https://d1.cloudfront.net/", "bucket": "ui-bucket", "files": 4, "invalidation": "I1"}
        assert {k: v[1:] for (_, k), v in s3.objects.items()} == {
            "index.html": ("text/html; charset=utf-8", "no-cache"),
            "assets/index-abc.js": ("application/javascript", "public, max-age=31536000, immutable"),
            "assets/index-abc.css": ("text/css", "public, max-age=31536000, immutable"),
            "ui-settings": ("application/json", "no-cache"),
        }
        body = json.loads(s3.objects[("ui-bucket", "ui-settings")][0])
        assert body["api_url"] == "/api"
        assert body["csrf_enabled"] is False
        assert "work_pools" in body["flags"]
        assert cf.calls == [("E123", {"Quantity": 1, "Items": ["/*"]})]

    def test_stack_without_the_ui_is_refused_before_any_upload(self, build):
        s3 = FakeS3()
        with pytest.raises(PublishError, match="deploy it with UiEnabled=true"):
            publish("old", cloudformation=FakeCfn({"PrefectApiUrl": "x"}), s3=s3, cloudfront=FakeCloudFront(),
                    build=build)
        assert s3.objects == {}


class TestUiTemplate:
    def test_ui_resources_are_conditional_and_route_api_to_the_http_api(self):
        from infra.sam import build as build_template

        tpl = build_template()
        assert tpl["Conditions"] == {"UiEnabled": {"Fn::Equals": [{"Ref": "UiEnabled"}, "true"]}}
        for rid in ("UiBucket", "UiOriginAccessControl", "UiViewerFunction", "UiDistribution", "UiBucketPolicy"):
            assert tpl["Resources"][rid]["Condition"] == "UiEnabled"
        config = tpl["Resources"]["UiDistribution"]["Properties"]["DistributionConfig"]
        api = next(o for o in config["Origins"] if o["Id"] == "api")
        assert api["DomainName"] == {"Fn::Sub": "${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
        assert api["OriginCustomHeaders"] == [{"HeaderName": "Authorization",
                                               "HeaderValue": {"Fn::Sub": "Bearer ${UiApiKey}"}}]
        assert [(b["PathPattern"], b["TargetOriginId"], b["CachePolicyId"]) for b in config["CacheBehaviors"]] == [
            ("/api/*", "api", sam_ui.CACHING_DISABLED)]
        assert tpl["Parameters"]["UiApiKey"]["NoEcho"] is True
        assert tpl["Parameters"]["UiBasicAuth"]["NoEcho"] is True

    def test_viewer_function_gates_with_basic_auth_and_keeps_api_paths(self):
        code = sam_ui.VIEWER_FUNCTION
        assert 'auth.value !== "Basic ${UiBasicAuth}"' in code
        assert 'uri.indexOf("/api/") !== 0 && uri !== "/ui-settings"' in code
