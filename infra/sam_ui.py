"""The Prefect UI on AWS: an S3 bucket behind a CloudFront distribution, in ``template.yaml``.

Off unless the stack parameter ``UiEnabled`` is ``true``. The distribution serves the UI files
(published by ``flowplane ui publish --stack NAME``) from a private bucket (origin access control)
and routes ``/api/*`` to the HttpApi, so the UI is same-origin with its API.

Protection — the 2.20 UI sends no API key, so the distribution itself is the gate:

* a CloudFront Function on every viewer request requires HTTP Basic credentials (parameter
  ``UiBasicAuth`` = base64 of ``user:password``; the browser asks once and resends them), and
  rewrites page paths without a file extension to ``/index.html`` (the SPA fallback; API paths and
  ``/ui-settings`` are left alone, so API 404s stay 404s);
* towards the API, CloudFront adds ``Authorization: Bearer <UiApiKey>`` (a key made with
  ``flowplane api-key create``) as an origin custom header, replacing what the viewer sent; the
  bearer-key authorizer then admits the UI's calls like any client's. Revoke that key to cut the UI
  off without touching other clients. Prefect clients keep using the execute-api URL with their
  own keys.
"""

from __future__ import annotations

from typing import Any

CONDITION = "UiEnabled"
# AWS managed policies (fixed ids, the same in every account)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

VIEWER_FUNCTION = """function handler(event) {
  var request = event.request;
  var auth = request.headers.authorization;
  if (!auth || auth.value !== "Basic ${UiBasicAuth}") {
    return {
      statusCode: 401,
      statusDescription: "Unauthorized",
      headers: {"www-authenticate": {value: "Basic realm=\\"flowplane\\""}}
    };
  }
  var uri = request.uri;
  if (uri.indexOf("/api/") !== 0 && uri !== "/ui-settings" && uri.split("/").pop().indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
"""


def _ref(name: str) -> dict:
    return {"Ref": name}


def _getatt(name: str, attr: str) -> dict:
    return {"Fn::GetAtt": [name, attr]}


def _sub(text: str) -> dict:
    return {"Fn::Sub": text}


def parameters() -> dict[str, Any]:
    return {
        "UiEnabled": {
            "Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
            "Description": "Serve the Prefect UI through CloudFront (then run `flowplane ui publish --stack <name>`)",
        },
        "UiBasicAuth": {
            "Type": "String", "Default": "", "NoEcho": True,
            "Description": "base64 of user:password that the UI's viewers must send (HTTP Basic)",
        },
        "UiApiKey": {
            "Type": "String", "Default": "", "NoEcho": True,
            "Description": "A flowplane API key CloudFront sends to the API on the UI's behalf",
        },
    }


def conditions() -> dict[str, Any]:
    return {CONDITION: {"Fn::Equals": [_ref("UiEnabled"), "true"]}}


def resources() -> dict[str, Any]:
    viewer_fn = [{"EventType": "viewer-request", "FunctionARN": _getatt("UiViewerFunction", "FunctionARN")}]
    return {
        "UiBucket": {
            "Type": "AWS::S3::Bucket",
            "Condition": CONDITION,
            "Properties": {
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                },
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            },
        },
        "UiOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Condition": CONDITION,
            "Properties": {"OriginAccessControlConfig": {
                "Name": _sub("${NamePrefix}-ui-${AWS::Region}"),
                "Description": "flowplane UI bucket",
                "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4",
            }},
        },
        "UiViewerFunction": {
            "Type": "AWS::CloudFront::Function",
            "Condition": CONDITION,
            "Properties": {
                "Name": _sub("${NamePrefix}-ui-viewer"),
                "AutoPublish": True,
                "FunctionConfig": {"Comment": "flowplane UI: HTTP Basic gate and SPA fallback",
                                   "Runtime": "cloudfront-js-2.0"},
                "FunctionCode": _sub(VIEWER_FUNCTION),
            },
        },
        "UiDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Condition": CONDITION,
            "Properties": {"DistributionConfig": {
                "Enabled": True,
                "Comment": _sub("${NamePrefix}: Prefect UI and /api"),
                "DefaultRootObject": "index.html",
                "HttpVersion": "http2",
                "PriceClass": "PriceClass_100",
                "Origins": [
                    {"Id": "ui", "DomainName": _getatt("UiBucket", "RegionalDomainName"),
                     "S3OriginConfig": {"OriginAccessIdentity": ""},
                     "OriginAccessControlId": _getatt("UiOriginAccessControl", "Id")},
                    {"Id": "api", "DomainName": _sub("${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
                     "CustomOriginConfig": {"OriginProtocolPolicy": "https-only", "OriginSSLProtocols": ["TLSv1.2"]},
                     "OriginCustomHeaders": [{"HeaderName": "Authorization",
                                              "HeaderValue": _sub("Bearer ${UiApiKey}")}]},
                ],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "ui", "ViewerProtocolPolicy": "redirect-to-https",
                    "CachePolicyId": CACHING_OPTIMIZED, "Compress": True, "FunctionAssociations": viewer_fn,
                },
                "CacheBehaviors": [{
                    "PathPattern": "/api/*", "TargetOriginId": "api", "ViewerProtocolPolicy": "https-only",
                    "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                    "CachedMethods": ["GET", "HEAD"],
                    "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
                    "Compress": True, "FunctionAssociations": viewer_fn,
                }],
            }},
        },
        "UiBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Condition": CONDITION,
            "Properties": {
                "Bucket": _ref("UiBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "CloudFrontReadsTheUi",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": _sub("${UiBucket.Arn}/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": _sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${UiDistribution}")}},
                    }],
                },
            },
        },
    }


def outputs() -> dict[str, Any]:
    return {
        "UiUrl": {"Condition": CONDITION, "Description": "The Prefect UI (HTTP Basic: UiBasicAuth)",
                  "Value": _sub("https://${UiDistribution.DomainName}/")},
        "UiBucketName": {"Condition": CONDITION, "Description": "where `flowplane ui publish` uploads the UI",
                         "Value": _ref("UiBucket")},
        "UiDistributionId": {"Condition": CONDITION, "Description": "invalidated by `flowplane ui publish`",
                             "Value": _ref("UiDistribution")},
    }
