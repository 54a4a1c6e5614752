"""Reading the SAM-transformed template: resources by type, what a Ref points at, who is granted what."""

import json
from collections.abc import Iterator
from typing import Any

Template = dict[str, Any]

# What scripts and the local stack read from the stack's Outputs.
OUTPUTS = {
    "BucketName",
    "MonthQueueUrl",
    "DeadLetterQueueUrl",
    "DeadLetterQueueArn",
    "MonthQueueArn",
    "SplitterFailureQueueUrl",
    "IdempotencyTableName",
    "ApiKeySecretArn",
    "SplitterFunctionName",
    "PusherFunctionName",
}


def resources(template: Template, kind: str) -> dict[str, Template]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def props(template: Template, logical_id: str) -> Template:
    properties: Template = template["Resources"][logical_id]["Properties"]
    return properties


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref_target(value: Any) -> str | None:
    """The logical id a Ref or GetAtt points at."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
    return None


def iam_statements(template: Template) -> Iterator[tuple[str, Template]]:
    """(resource, statement) for every identity-policy statement and every Allow in a resource policy."""
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                for statement in as_list(policy["PolicyDocument"]["Statement"]):
                    yield name, statement
        elif resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                yield name, statement
        elif "PolicyDocument" in properties:
            for statement in as_list(properties["PolicyDocument"]["Statement"]):
                if statement.get("Effect") == "Allow":
                    yield name, statement


def statement_by_sid(template: Template, sid: str) -> Template:
    for _, statement in iam_statements(template):
        if statement.get("Sid") == sid:
            return statement
    raise KeyError(sid)


def role_statements(template: Template, function: str) -> list[Template]:
    """Every statement granted to a function: its role's inline policies and policies attached to it."""
    role = ref_target(props(template, function)["Role"])
    return [
        statement
        for name, statement in iam_statements(template)
        if name == role
        or (
            template["Resources"][name]["Type"] == "AWS::IAM::Policy"
            and role in [ref_target(item) for item in props(template, name).get("Roles", [])]
        )
    ]


def granted(template: Template, function: str, action: str) -> list[Any]:
    """The resources a function may apply `action` to (as written in the template)."""
    return [
        resource
        for statement in role_statements(template, function)
        if statement.get("Effect") == "Allow" and action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]


def rendered(value: Any) -> str:
    """A resource expression as text, enough to see which prefix or resource it names."""
    return json.dumps(value, sort_keys=True)


def environment(template: Template, function: str) -> dict[str, Any]:
    return dict(props(template, function)["Environment"]["Variables"])


def queue_of_mapping(template: Template, function: str) -> tuple[Template, str]:
    """A function's SQS event source mapping and the logical id of the queue it reads."""
    (mapping,) = [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if ref_target(m["Properties"]["FunctionName"]) == function
    ]
    return mapping, str(ref_target(mapping["EventSourceArn"]))


def bucket_policy_statements(template: Template) -> list[Template]:
    return [
        statement
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        if ref_target(policy["Properties"]["Bucket"]) == "CreditsBucket"
        for statement in as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    ]


NO_VALUE = {"Ref": "AWS::NoValue"}


def resolved(template: Template, parameters: dict[str, str]) -> Template:
    """The template as CloudFormation would create it with these parameter values (the others at their
    defaults): resources whose Condition is false left out, each Fn::If replaced by its branch, AWS::NoValue
    dropped, and each parameter's Ref (or ${Name} in a Fn::Sub) replaced by its value."""
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()} | parameters
    conditions: dict[str, bool] = {}

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = bool(evaluate(template["Conditions"][name]))
        return conditions[name]

    def evaluate(node: Any) -> Any:
        if isinstance(node, list):
            return [value for value in map(evaluate, node) if value != NO_VALUE]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        if set(node) == {"Condition"}:
            return condition(node["Condition"])
        if set(node) == {"Fn::Equals"}:
            left, right = (evaluate(argument) for argument in node["Fn::Equals"])
            return str(left) == str(right)
        if set(node) == {"Fn::Not"}:
            return not evaluate(node["Fn::Not"][0])
        if set(node) == {"Fn::And"}:
            return all(evaluate(argument) for argument in node["Fn::And"])
        if set(node) == {"Fn::Or"}:
            return any(evaluate(argument) for argument in node["Fn::Or"])
        if set(node) == {"Fn::If"}:
            name, if_true, if_false = node["Fn::If"]
            return evaluate(if_true if condition(name) else if_false)
        if set(node) == {"Fn::Sub"} and isinstance(node["Fn::Sub"], str):
            text = node["Fn::Sub"]
            for name, value in values.items():
                text = text.replace(f"${{{name}}}", value)
            return {"Fn::Sub": text}
        evaluated = {key: evaluate(value) for key, value in node.items()}
        return {key: value for key, value in evaluated.items() if value != NO_VALUE}

    return {
        **template,
        "Resources": {
            name: evaluate(resource)
            for name, resource in template["Resources"].items()
            if "Condition" not in resource or condition(resource["Condition"])
        },
    }
