#!/usr/bin/env python3
"""docs/deployer-policy.json: the IAM permissions `make deploy`, `make smoke` and `make destroy`
need, derived, not guessed.

usage: deployer_policy.py SCHEMAS_DIR [--check]

The templates (template.yaml and templates/dispatcher.yaml) go through the SAM transform
(samtranslator, from the SAM CLI's venv) to the resource types CloudFormation really creates
(a Serverless::Function becomes a function, a role, permissions, rules, an invoke config...).
For each type, the actions its CloudFormation resource handler calls with the deployer's
credentials to create, read, update and delete it come from the resource schema's `handlers`
(AWS's provider schemas, as cfn-lint ships them: SCHEMAS_DIR is cfnlint/data/schemas). Then
what the SAM CLI itself calls: the change sets of the stack and its nested stacks, the Serverless
transform, the managed artifacts bucket (`resolve_s3`), and what `make smoke` calls.
--check: exit 1 when docs/deployer-policy.json differs from what the templates need now.
"""
import json
import os
import pathlib
import sys

import boto3
from samcli.yamlhelper import yaml_parse
from samtranslator.translator.transform import transform

ROOT = pathlib.Path(__file__).resolve().parent.parent
TEMPLATES = ["template.yaml", "templates/dispatcher.yaml"]
OUT = ROOT / "docs/deployer-policy.json"
# The stack (samconfig.toml's stack_name) and its nested stacks (costwatch-SlackDispatcher-…).
STACKS = ["arn:aws:cloudformation:*:*:stack/costwatch/*", "arn:aws:cloudformation:*:*:stack/costwatch-*/*"]
SAM_MANAGED_STACK = "arn:aws:cloudformation:*:*:stack/aws-sam-cli-managed-default/*"
SAM_ARTIFACTS = "arn:aws:s3:::aws-sam-cli-managed-default-samclisourcebucket-*"


class NoManagedPolicies:
    """The templates name managed policies by ARN only, so the transform needs no IAM lookup."""

    def load(self):
        return {}


def resource_types():
    """The CloudFormation resource types of the transformed templates."""
    types = set()
    # The region only names the partition (aws) for the transform's ARNs; nothing is requested.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    session = boto3.Session(region_name="us-east-1")
    for path in TEMPLATES:
        template = yaml_parse((ROOT / path).read_text())
        # Placeholders where `sam deploy` would put the uploaded code and nested templates.
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = "s3://bucket/code.zip"
            if resource["Type"] == "AWS::Serverless::Application":
                resource["Properties"]["Location"] = "https://s3.amazonaws.com/bucket/nested.yaml"
        out = transform(template, {}, NoManagedPolicies(), session)
        types |= {r["Type"] for r in out["Resources"].values()}
    return sorted(types)


def handler_actions(schemas, types):
    """Per service, the actions the types' create/read/update/delete handlers call."""
    providers = json.loads((schemas / "providers/us-east-1.json").read_text())
    by_service = {}
    for kind in types:
        schema = json.loads((schemas / "resources" / f"{providers[kind]}.json").read_text())
        for handler in ("create", "read", "update", "delete"):
            for action in schema["handlers"].get(handler, {}).get("permissions", []):
                by_service.setdefault(action.split(":")[0], set()).add(action)
    return by_service


def policy(types, by_service):
    statements = [
        {
            "Sid": "Stacks",
            "Effect": "Allow",
            "Action": sorted([
                "cloudformation:CreateChangeSet", "cloudformation:DeleteChangeSet",
                "cloudformation:DeleteStack", "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents", "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStackResources", "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet", "cloudformation:GetTemplate",
                "cloudformation:GetTemplateSummary", "cloudformation:ListStackResources",
            ]),
            "Resource": STACKS + [SAM_MANAGED_STACK],
        },
        {
            "Sid": "ServerlessTransform",
            "Effect": "Allow",
            "Action": ["cloudformation:CreateChangeSet"],
            "Resource": ["arn:aws:cloudformation:*:aws:transform/Serverless-2016-10-31"],
        },
        {
            "Sid": "TemplateChecks",
            "Effect": "Allow",
            "Action": ["cloudformation:ValidateTemplate"],
            "Resource": ["*"],
        },
        {
            "Sid": "SamArtifacts",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:PutObject"],
            "Resource": [SAM_ARTIFACTS, SAM_ARTIFACTS + "/*"],
        },
        {
            "Sid": "Smoke",
            "Effect": "Allow",
            "Action": ["lambda:InvokeFunction", "s3:GetObject"],
            "Resource": [
                "arn:aws:lambda:*:*:function:costwatch-*",
                "arn:aws:s3:::costwatch-*/reports/*",
            ],
        },
    ]
    for service in sorted(by_service):
        statements.append({
            "Sid": "StackResources" + service.title().replace("-", ""),
            "Effect": "Allow",
            "Action": sorted(by_service[service]),
            "Resource": ["*"],
        })
    return {
        "Version": "2012-10-17",
        "Statement": statements,
    }


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["--check"]):
        sys.exit(__doc__.split("\n\n")[1])
    types = resource_types()
    doc = policy(types, handler_actions(pathlib.Path(sys.argv[1]), types))
    text = json.dumps(doc, indent=2) + "\n"
    if sys.argv[2:] == ["--check"]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"{OUT.relative_to(ROOT)} is out of date with the templates: make deployer-policy")
        print(f"{OUT.relative_to(ROOT)}: up to date ({len(types)} resource types)")
        return
    OUT.write_text(text)
    actions = sum(len(s["Action"]) for s in doc["Statement"])
    print(f"{OUT.relative_to(ROOT)}: {actions} actions for {len(types)} resource types: {', '.join(types)}")


if __name__ == "__main__":
    main()
