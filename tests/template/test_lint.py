"""template.yaml passes SAM's validation and cfn-lint, before and after the SAM transform.

checkov (security and compliance rules) runs in `make lint`; its skips and their reasons are in the
template, in each resource's Metadata.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cfnlint.api import lint

from local_stack.provision import TEMPLATE_PATH, load_template, transformed_template
from tests.template.cfn import props


def test_sam_validate_lint() -> None:
    sam = Path(sys.executable).with_name("sam")
    result = subprocess.run(
        [str(sam), "validate", "--lint", "--template-file", str(TEMPLATE_PATH)],
        cwd=TEMPLATE_PATH.parent,
        env={**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_cfn_lint_on_sam_template() -> None:
    problems = lint(TEMPLATE_PATH.read_text(encoding="utf-8"), regions=["us-east-1"])
    assert not problems, "\n".join(str(problem) for problem in problems)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {
            "AlarmTopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
            "AlarmTopicKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0f5b2c7e-1d4a-4c1e-9a57-7b0e2f1c9d3a",
            "AllowAwsExportDelivery": "true",
            "ColumnMappingsUri": "s3://b-1/c.json",
        },
    ],
    ids=["defaults", "optional-parameters-set"],
)
def test_cfn_lint_on_transformed_template(parameters: dict[str, str]) -> None:
    problems = lint(json.dumps(transformed_template(parameters)), regions=["us-east-1", "eu-west-1"])
    assert not problems, "\n".join(str(problem) for problem in problems)


def test_cfn_lint_catches_a_queue_shorter_than_its_consumer() -> None:
    """The transformed-template lint is what sees this (cfn-lint on the SAM template does not)."""
    broken = transformed_template()
    props(broken, "MonthQueue")["VisibilityTimeout"] = 60
    assert "E3505" in {problem.rule.id for problem in lint(json.dumps(broken))}  # visibility < timeout


def test_every_checkov_skip_says_why() -> None:
    skips = [
        (name, skip)
        for name, resource in load_template()["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "no checkov skips found where this test looks (a resource's Metadata)"
    for name, skip in skips:
        assert re.fullmatch(r"CKV_AWS_\d+", skip.get("id", "")), f"{name}: {skip}"
        assert len(skip.get("comment", "").split()) >= 5, f"{name} skips {skip['id']} without saying why"
